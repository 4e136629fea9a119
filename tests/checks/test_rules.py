"""The eight rules of the design, as tables of plain data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.last_backup import LastBackup
from checks.report import Role, Status
from checks.rules import (
    Code,
    assess,
    minimum_free_bytes,
    recommended_free_bytes,
    snapshotted_volume_ids,
)
from checks.units import GB, MB
from tests.checks.conftest import Build

SYSTEM_RESERVED = 524_288_000  # exactly 500 MB: the default System Reserved partition


class TestMinimums:
    @pytest.mark.parametrize(
        ("capacity", "minimum"),
        [
            (1, 50 * MB),
            (SYSTEM_RESERVED, 50 * MB),
            (SYSTEM_RESERVED + 1, 320 * MB),
            (40 * GB, 320 * MB),
        ],
    )
    def test_a_volume_of_up_to_500_mb_needs_50_mb_and_larger_ones_320_mb(
        self, capacity: int, minimum: int
    ) -> None:
        assert minimum_free_bytes(capacity) == minimum

    @pytest.mark.parametrize(
        ("capacity", "recommended"),
        [(SYSTEM_RESERVED, None), (GB, None), (GB + 1, GB), (2000 * GB, GB)],
    )
    def test_only_volumes_larger_than_1_gb_are_recommended_1_gb_free(
        self, capacity: int, recommended: int | None
    ) -> None:
        assert recommended_free_bytes(capacity) == recommended


# (capacity, free) of a backed-up D: → (status, required, recommended, shortfall)
VOLUME_TABLE = [
    pytest.param(SYSTEM_RESERVED, 50 * MB, Status.OK, 50 * MB, None, 0, id="500MB-at-50MB"),
    pytest.param(SYSTEM_RESERVED, 50 * MB - 1, Status.CRITICAL, 50 * MB, None, 1, id="500MB-below"),
    pytest.param(SYSTEM_RESERVED, 150 * MB, Status.OK, 50 * MB, None, 0, id="500MB-150MB-free"),
    pytest.param(SYSTEM_RESERVED + 1, 320 * MB, Status.OK, 320 * MB, None, 0, id="500MB+1-at-320"),
    pytest.param(
        SYSTEM_RESERVED + 1, 150 * MB, Status.CRITICAL, 320 * MB, None, 170 * MB, id="500MB+1-150MB"
    ),
    pytest.param(GB, 320 * MB, Status.OK, 320 * MB, None, 0, id="1GB-is-not-larger-than-1GB"),
    pytest.param(GB + 1, 320 * MB, Status.WARNING, 320 * MB, GB, 0, id="1GB+1-needs-1GB"),
    pytest.param(40 * GB, GB, Status.OK, 320 * MB, GB, 0, id="40GB-at-1GB"),
    pytest.param(40 * GB, GB - 1, Status.WARNING, 320 * MB, GB, 0, id="40GB-below-1GB"),
    pytest.param(40 * GB, 320 * MB, Status.WARNING, 320 * MB, GB, 0, id="40GB-at-320MB"),
    pytest.param(40 * GB, 320 * MB - 1, Status.CRITICAL, 320 * MB, GB, 1, id="40GB-below-320MB"),
    pytest.param(40 * GB, 235 * MB, Status.CRITICAL, 320 * MB, GB, 85 * MB, id="seed-D"),
]


@pytest.mark.parametrize(
    ("capacity", "free", "status", "required", "recommended", "shortfall"), VOLUME_TABLE
)
def test_a_backed_up_volume_is_judged_by_its_size_and_free_space(
    build: Build,
    capacity: int,
    free: int,
    status: Status,
    required: int,
    recommended: int | None,
    shortfall: int,
) -> None:
    snap = build.snapshot(
        [build.volume("D", capacity, free), build.volume("E", 4000 * GB, 3000 * GB)],
        sources=["D"],
        target="E",
    )
    verdict = assess(snap).verdict(build.vid("D"))
    assert verdict.status is status
    assert verdict.required_free_bytes == required
    assert verdict.recommended_free_bytes == recommended
    assert verdict.shortfall_bytes == shortfall


class TestRule1Snapshotted:
    def test_sources_and_the_target_volume_are_snapshotted_others_are_info(
        self, build: Build
    ) -> None:
        snap = build.snapshot(
            [
                build.volume("C", 100 * GB, 50 * GB),
                build.volume("D", 100 * GB, 1 * MB),  # full, but outside the backup
                build.volume("E", 1000 * GB, 500 * GB),
            ],
            sources=["C"],
            target="E",
        )
        result = assess(snap)
        assert snapshotted_volume_ids(snap) == [build.vid("C"), build.vid("E")]
        assert result.verdict(build.vid("C")).roles == (Role.SOURCE,)
        assert result.verdict(build.vid("E")).roles == (Role.DESTINATION,)
        outside = result.verdict(build.vid("D"))
        assert (outside.status, outside.roles, outside.required_free_bytes) == (
            Status.INFO,
            (),
            None,
        )
        assert [i.volume_id for i in result.issues] == []
        assert result.status is Status.OK

    def test_a_dedicated_disk_target_is_snapshotted_a_network_target_is_not(
        self, build: Build
    ) -> None:
        disk = {
            "type": "disk",
            "volume_id": build.vid("Z"),
            "path": None,
            "label": "DISK_01",
            "capacity_bytes": None,
            "free_bytes": None,
        }
        snap = build.snapshot(
            [build.volume("C", 100 * GB, 50 * GB), build.volume("Z", 900 * GB, 100 * MB)],
            sources=["C"],
            target=disk,
        )
        assert assess(snap).verdict(build.vid("Z")).status is Status.CRITICAL
        networked = build.snapshot(
            [build.volume("C", 100 * GB, 50 * GB)], sources=["C"], target=build.network(50 * GB)
        )
        assert snapshotted_volume_ids(networked) == [build.vid("C")]

    def test_without_a_policy_every_volume_with_a_filesystem_counts_and_the_report_says_so(
        self, build: Build
    ) -> None:
        snap = build.snapshot(
            [
                build.volume(None, SYSTEM_RESERVED, 40 * MB, id="\\\\?\\Volume{sr}\\"),
                build.volume("C", 100 * GB, 50 * GB),
                build.volume("R", 10 * GB, 0, filesystem=None),  # RAW: nothing to back up
            ]
        )
        result = assess(snap)
        assert [v.status for v in result.volumes] == [Status.CRITICAL, Status.OK, Status.INFO]
        assert result.verdict("\\\\?\\Volume{sr}\\").roles == (Role.SOURCE,)
        assert Code.NO_BACKUP_POLICY in [i.code for i in result.issues]


class TestRule2DiffArea:
    def test_the_space_is_needed_on_the_diff_area_volume_not_on_the_source(
        self, build: Build
    ) -> None:
        snap = build.snapshot(
            [
                build.volume("D", 40 * GB, 2 * GB),
                build.volume("G", 10 * GB, 300 * MB),
                build.volume("E", 4000 * GB, 3000 * GB),
            ],
            sources=["D"],
            target="E",
            shadow_storage=[build.shadow("D", "G")],
        )
        result = assess(snap)
        d, g = result.verdict(build.vid("D")), result.verdict(build.vid("G"))
        assert (d.required_free_bytes, d.status) == (None, Status.OK)
        assert g.roles == (Role.DIFF_AREA,)
        assert (g.required_free_bytes, g.shortfall_bytes, g.status) == (
            320 * MB,
            20 * MB,
            Status.CRITICAL,
        )
        (issue,) = [i for i in result.issues if i.code is Code.VSS_MIN_FREE]
        assert (issue.volume_id, issue.diff_area_for) == (build.vid("G"), (build.vid("D"),))

    def test_a_volume_hosting_several_diff_areas_needs_the_sum_of_their_minimums(
        self, build: Build
    ) -> None:
        snap = build.snapshot(
            [
                build.volume(None, SYSTEM_RESERVED, 200 * MB, id=build.vid("SR")),
                build.volume("C", 100 * GB, 369 * MB),
                build.volume("D", 100 * GB, 50 * GB),
                build.volume("E", 4000 * GB, 3000 * GB),
            ],
            sources=["SR", "C", "D"],
            target="E",
            shadow_storage=[build.shadow("SR", "C"), build.shadow("D", "C")],
        )
        c = assess(snap).verdict(build.vid("C"))
        # C's own 320 MB + System Reserved's 50 MB + D's 320 MB.
        assert c.required_free_bytes == 690 * MB
        assert c.shortfall_bytes == 321 * MB
        assert c.roles == (Role.SOURCE, Role.DIFF_AREA)
        assert c.status is Status.CRITICAL

    def test_a_diff_area_host_outside_the_backup_gets_no_recommended_free_space(
        self, build: Build
    ) -> None:
        snap = build.snapshot(
            [
                build.volume("D", 40 * GB, 2 * GB),
                build.volume("G", 10 * GB, 400 * MB),
                build.volume("E", 4000 * GB, 3000 * GB),
            ],
            sources=["D"],
            target="E",
            shadow_storage=[build.shadow("D", "G")],
        )
        g = assess(snap).verdict(build.vid("G"))
        assert (g.recommended_free_bytes, g.status) == (None, Status.OK)


class TestRule4ShadowStorageLimit:
    @pytest.mark.parametrize(
        ("capacity", "limit", "status"),
        [
            (40 * GB, 300 * MB, Status.CRITICAL),
            (40 * GB, 320 * MB, Status.OK),
            (40 * GB, None, Status.OK),
            (SYSTEM_RESERVED, 50 * MB, Status.OK),
            (SYSTEM_RESERVED, 50 * MB - 1, Status.CRITICAL),
        ],
    )
    def test_a_limit_below_the_minimum_is_critical(
        self, build: Build, capacity: int, limit: int | None, status: Status
    ) -> None:
        snap = build.snapshot(
            [build.volume("D", capacity, capacity // 2), build.volume("E", 4000 * GB, 3000 * GB)],
            sources=["D"],
            target="E",
            shadow_storage=[build.shadow("D", "D", max_bytes=limit)],
        )
        result = assess(snap)
        assert result.verdict(build.vid("D")).status is status
        limits = [i for i in result.issues if i.code is Code.SHADOW_STORAGE_LIMIT]
        if status is Status.CRITICAL:
            assert limit is not None
            (issue,) = limits
            assert issue.limit_bytes == limit
            assert issue.shortfall_bytes == minimum_free_bytes(capacity) - limit
        else:
            assert limits == []


class TestRule5NetworkTarget:
    @pytest.mark.parametrize(
        ("free", "code", "severity"),
        [
            (59 * GB, Code.NETWORK_TARGET_FULL, Status.WARNING),
            (60 * GB, None, Status.OK),
            (None, Code.NETWORK_TARGET_SPACE_UNKNOWN, Status.OK),
        ],
    )
    def test_a_share_must_hold_what_the_sources_use(
        self, build: Build, free: int | None, code: Code | None, severity: Status
    ) -> None:
        snap = build.snapshot(
            [build.volume("C", 100 * GB, 60 * GB), build.volume("D", 100 * GB, 80 * GB)],
            sources=["C", "D"],  # 40 GB + 20 GB used
            target=build.network(free),
        )
        result = assess(snap)
        assert result.status is severity
        assert [i.code for i in result.issues] == ([code] if code else [])
        if code is Code.NETWORK_TARGET_FULL:
            assert result.issues[0].shortfall_bytes == 1 * GB


class TestRule7LastResult:
    @pytest.mark.parametrize(
        ("hresult", "reported"), [(0x80780119, True), (0, False), (None, False)]
    )
    def test_a_failed_last_backup_is_reported_without_changing_the_status(
        self, build: Build, hresult: int | None, reported: bool
    ) -> None:
        snap = build.snapshot(
            [build.volume("C", 100 * GB, 60 * GB), build.volume("E", 1000 * GB, 600 * GB)],
            sources=["C"],
            target="E",
            last_result_hresult=hresult,
        )
        result = assess(snap)
        failed = [i for i in result.issues if i.code is Code.LAST_BACKUP_FAILED]
        assert [i.hresult for i in failed] == ([hresult] if reported else [])
        assert result.status is Status.OK

    @pytest.mark.parametrize(
        ("result", "detailed", "shown"),
        [
            (0x80780000, 0x8004231F, 0x8004231F),  # the detailed code is the one explained
            (0x80780119, 0x8004231F, 0x80780119),  # the result code is explained already
            (0x80780000, 0x80780001, 0x80780000),  # neither: the result code as Windows says
        ],
    )
    def test_the_summarys_detailed_code_explains_an_unknown_result(
        self, build: Build, result: int, detailed: int, shown: int
    ) -> None:
        snap = build.snapshot(
            [build.volume("C", 100 * GB, 60 * GB), build.volume("E", 1000 * GB, 600 * GB)],
            sources=["C"],
            target="E",
            last_result_hresult=result,
        )
        summary = {
            "last_backup_at": None, "last_success_at": None, "next_backup_at": None,
            "result_hresult": result, "detailed_hresult": detailed, "detailed_message": None,
            "versions": None, "current_operation": None,
        }  # fmt: skip
        snap = snap.model_copy(
            update={"last_backup": LastBackup.model_validate({"summary": summary})}
        )
        failed = [i for i in assess(snap).issues if i.code is Code.LAST_BACKUP_FAILED]
        assert [i.hresult for i in failed] == [shown]


class TestRule8HostStatus:
    def test_the_host_is_as_bad_as_its_worst_volume(self, build: Build) -> None:
        snap = build.snapshot(
            [
                build.volume("C", 100 * GB, 900 * MB),  # warning
                build.volume("D", 100 * GB, 100 * MB),  # critical
                build.volume("E", 1000 * GB, 600 * GB),
            ],
            sources=["C", "D"],
            target="E",
        )
        result = assess(snap)
        assert result.status is Status.CRITICAL
        assert [i.code for i in result.issues] == [Code.VSS_MIN_FREE, Code.RECOMMENDED_FREE]


sizes = st.integers(min_value=1, max_value=64 * 1024 * GB)


@given(capacity=sizes, free=st.integers(min_value=0), more=st.integers(min_value=0))
def test_more_free_space_never_makes_a_volume_worse(capacity: int, free: int, more: int) -> None:
    build = Build()
    free = free % (capacity + 1)
    more_free = min(capacity, free + more)
    target = build.volume("E", 4000 * GB, 3000 * GB)
    before = assess(build.snapshot([build.volume("D", capacity, free), target], ["D"], "E"))
    after = assess(build.snapshot([build.volume("D", capacity, more_free), target], ["D"], "E"))
    d = build.vid("D")
    assert after.verdict(d).status.rank <= before.verdict(d).status.rank
    assert after.status.rank <= before.status.rank


@given(
    capacities=st.lists(sizes, min_size=1, max_size=4),
    free_share=st.floats(min_value=0, max_value=1),
    shared=st.booleans(),
)
def test_shortfall_is_exactly_required_minus_free_or_zero(
    capacities: list[int], free_share: float, shared: bool
) -> None:
    build = Build()
    letters = "DFGH"[: len(capacities)]
    volumes = [
        build.volume(letter, cap, int(cap * free_share))
        for letter, cap in zip(letters, capacities, strict=True)
    ]
    volumes.append(build.volume("E", 4000 * GB, 3000 * GB))
    storage = [build.shadow(letter, letters[0]) for letter in letters[1:]] if shared else []
    result = assess(build.snapshot(volumes, list(letters), "E", shadow_storage=storage))
    for verdict in result.volumes:
        if verdict.required_free_bytes is None:
            assert verdict.shortfall_bytes is None
        else:
            expected = max(0, verdict.required_free_bytes - verdict.volume.free_bytes)
            assert verdict.shortfall_bytes == expected
