# backupcheck probe: prints this server's Snapshot v1 as one line of UTF-8 JSON.
# It only reads (WMI/CIM and the Windows Server Backup cmdlets) and changes nothing.
# Runs on Windows PowerShell 4.0 (Server 2012 R2) to 5.1 (Server 2016-2025): no ::new(),
# no classes, no ?. operators. Keep this file ASCII: it may travel over stdin in any code page.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$warnings = New-Object -TypeName 'System.Collections.Generic.List[string]'
$invariant = [System.Globalization.CultureInfo]::InvariantCulture

function Format-IsoTime($value) {
    # ConvertTo-Json in 5.1 writes dates as \/Date(...)\/; the contract wants ISO 8601 with offset.
    if ($null -eq $value) { return $null }
    $moment = [datetime]$value
    # Windows Server Backup reports "never" as the year 1 (or 1601 for FILETIME zero).
    if ($moment.Year -lt 1900) { return $null }
    return $moment.ToString('yyyy-MM-ddTHH:mm:sszzz', $invariant)
}

function Get-ErrorText($record) {
    $text = $record.Exception.Message
    if ($null -eq $text) { $text = [string]$record }
    return ($text -replace '\s+', ' ').Trim()
}

function Find-VolumeId([string]$path) {
    # Accepts a drive letter (E: or E:\), a mount folder, or a volume GUID path with or without
    # the trailing backslash (Get-WBVolume's MountPoint lacks the one Win32_Volume.DeviceID has).
    if ([string]::IsNullOrEmpty($path)) { return $null }
    $wanted = $path.TrimEnd('\') + '\'
    foreach ($volume in $script:volumeRows) {
        if ($volume.id -eq $wanted -or $volume.name -eq $wanted) { return $volume.id }
        if ($null -ne $volume.letter -and ($volume.letter + '\') -eq $wanted) { return $volume.id }
    }
    return $null
}

# Volumes: every local disk volume, with or without a drive letter (System Reserved, EFI, recovery).
$script:volumeRows = @()
$cimVolumes = @(Get-CimInstance -ClassName Win32_Volume -Filter 'DriveType = 3')
foreach ($v in $cimVolumes) {
    $capacity = 0
    $free = 0
    if ($null -ne $v.Capacity) { $capacity = [uint64]$v.Capacity }
    if ($null -ne $v.FreeSpace) { $free = [uint64]$v.FreeSpace }
    $letter = $null
    if (-not [string]::IsNullOrEmpty($v.DriveLetter)) { $letter = [string]$v.DriveLetter }
    $name = [string]$v.Name
    if ([string]::IsNullOrEmpty($name)) { $name = [string]$v.DeviceID }
    $label = $null
    if (-not [string]::IsNullOrEmpty($v.Label)) { $label = [string]$v.Label }
    $filesystem = $null
    if (-not [string]::IsNullOrEmpty($v.FileSystem)) { $filesystem = [string]$v.FileSystem }
    $script:volumeRows += [ordered]@{
        id             = [string]$v.DeviceID
        name           = $name
        letter         = $letter
        label          = $label
        filesystem     = $filesystem
        capacity_bytes = $capacity
        free_bytes     = $free
        windows        = [bool]$v.BootVolume
        boot           = [bool]$v.SystemVolume
    }
}

# Shadow storage: where each volume's diff area lives, and its limit.
$shadowRows = @()
try {
    foreach ($s in @(Get-CimInstance -ClassName Win32_ShadowStorage)) {
        # Volume and DiffVolume are references; flatten them to the DeviceID key.
        $forId = [string]$s.Volume.DeviceID
        $onId = [string]$s.DiffVolume.DeviceID
        if ($null -eq (Find-VolumeId $forId) -or $null -eq (Find-VolumeId $onId)) {
            $warnings.Add("shadow storage for $forId on $onId refers to a volume that is not a local disk; skipped")
            continue
        }
        $max = $null
        # An unbounded association reports the largest UInt64.
        if ($null -ne $s.MaxSpace -and [uint64]$s.MaxSpace -lt [uint64]9223372036854775807) {
            $max = [uint64]$s.MaxSpace
        }
        $shadowRows += [ordered]@{
            for_volume_id   = $forId
            on_volume_id    = $onId
            used_bytes      = [uint64]$s.UsedSpace
            allocated_bytes = [uint64]$s.AllocatedSpace
            max_bytes       = $max
        }
    }
} catch {
    $warnings.Add('shadow storage could not be read: ' + (Get-ErrorText $_))
}

# The Windows Server Backup policy, when the feature is installed and a policy exists.
$backup = $null
if ($null -eq (Get-Module -ListAvailable -Name WindowsServerBackup)) {
    $warnings.Add('the Windows Server Backup feature is not installed, so there is no backup policy to read')
} else {
    try {
        Import-Module -Name WindowsServerBackup
        $policy = Get-WBPolicy
    } catch {
        $policy = $null
        $warnings.Add('the backup policy could not be read: ' + (Get-ErrorText $_))
    }
    if ($null -ne $policy) {
        $sources = @()
        $sourceVolumes = @()
        try {
            $sourceVolumes += @(Get-WBVolume -Policy $policy)
            # Bare-metal recovery and system state back up the critical volumes too, even though
            # the policy does not list them (System Reserved, EFI and the Windows volume).
            if ((Get-WBBareMetalRecovery -Policy $policy) -or (Get-WBSystemState -Policy $policy)) {
                $sourceVolumes += @(Get-WBVolume -CriticalVolumes)
            }
        } catch {
            $warnings.Add('the backup sources could not be read: ' + (Get-ErrorText $_))
        }
        foreach ($wbVolume in $sourceVolumes) {
            $id = Find-VolumeId ([string]$wbVolume.MountPoint)
            if ($null -eq $id) { $id = Find-VolumeId ([string]$wbVolume.MountPath) }
            if ($null -eq $id) {
                $warnings.Add('the backup source ' + [string]$wbVolume.MountPath + ' was not found among the local volumes')
            } elseif ($sources -notcontains $id) {
                $sources += $id
            }
        }

        $target = $null
        try {
            foreach ($t in @(Get-WBBackupTarget -Policy $policy)) {
                $kind = [string]$t.TargetType
                $label = $null
                if (-not [string]::IsNullOrEmpty($t.Label)) { $label = [string]$t.Label }
                if ($kind -eq 'Network') {
                    $target = [ordered]@{ type = 'network'; volume_id = $null; path = [string]$t.Path
                        label = $label; capacity_bytes = $null; free_bytes = $null }
                    try {
                        # FileSystemObject reads a UNC share's size without compiling anything.
                        $fso = New-Object -ComObject Scripting.FileSystemObject
                        $drive = $fso.GetDrive($fso.GetDriveName([string]$t.Path))
                        $target.capacity_bytes = [uint64]$drive.TotalSize
                        $target.free_bytes = [uint64]$drive.AvailableSpace
                    } catch {
                        $warnings.Add('the free space of ' + [string]$t.Path + ' could not be read (' + (Get-ErrorText $_) + '); over NTLM the bot cannot pass its credentials on to the share (double hop): use CredSSP or Kerberos delegation to read it')
                    }
                    break
                }
                $volumeId = Find-VolumeId ([string]$t.Path)
                if ($null -eq $volumeId -and $null -ne $label) {
                    foreach ($row in $script:volumeRows) {
                        if ($row.label -eq $label) { $volumeId = $row.id }
                    }
                }
                $type = 'volume'
                if ($kind -eq 'Disk') { $type = 'disk' }
                if ($null -eq $volumeId -and $type -eq 'volume') {
                    $warnings.Add('the backup target ' + [string]$t.Path + ' was not found among the local volumes')
                    continue
                }
                $capacity = $null
                $free = $null
                foreach ($row in $script:volumeRows) {
                    if ($row.id -eq $volumeId) { $capacity = $row.capacity_bytes; $free = $row.free_bytes }
                }
                $target = [ordered]@{ type = $type; volume_id = $volumeId; path = $null
                    label = $label; capacity_bytes = $capacity; free_bytes = $free }
                # Rotating disks: the one attached now is the one tonight's backup writes to.
                if ($null -ne $volumeId) { break }
            }
        } catch {
            $warnings.Add('the backup target could not be read: ' + (Get-ErrorText $_))
        }

        $schedule = @()
        try {
            foreach ($time in @(Get-WBSchedule -Policy $policy)) {
                $schedule += ([datetime]$time).ToString('HH:mm', $invariant)
            }
        } catch {
            $warnings.Add('the backup schedule could not be read: ' + (Get-ErrorText $_))
        }

        $next = $null
        $lastSuccess = $null
        $lastResult = $null
        try {
            $summary = Get-WBSummary
            $next = Format-IsoTime $summary.NextBackupTime
            $lastSuccess = Format-IsoTime $summary.LastSuccessfulBackupTime
            if ($null -ne $summary.LastBackupResultHR) { $lastResult = [int64]$summary.LastBackupResultHR }
        } catch {
            $warnings.Add('the backup history could not be read: ' + (Get-ErrorText $_))
        }

        if ($null -ne $target) {
            $backup = [ordered]@{
                sources             = $sources
                target              = $target
                schedule            = $schedule
                next_backup_at      = $next
                last_success_at     = $lastSuccess
                last_result_hresult = $lastResult
            }
        } else {
            $warnings.Add('the backup policy has no usable target, so the volumes are checked as if there were no policy')
        }
    }
}

$snapshot = [ordered]@{
    schema         = 1
    host           = [string]$env:COMPUTERNAME
    collected_at   = Format-IsoTime (Get-Date)
    volumes        = $script:volumeRows
    backup         = $backup
    shadow_storage = $shadowRows
    warnings       = $warnings.ToArray()
}
# -Depth: the default of 2 silently truncates nested objects. -InputObject keeps one-element
# arrays as arrays (piping would unwrap them).
$json = ConvertTo-Json -InputObject $snapshot -Depth 8 -Compress
$stdout = [System.Console]::OpenStandardOutput()
$bytes = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetBytes($json)
$stdout.Write($bytes, 0, $bytes.Length)
$stdout.Flush()
