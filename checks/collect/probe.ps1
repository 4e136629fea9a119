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

function Get-Prop($object, [string]$name) {
    # A property that a Windows version may lack reads as null instead of failing.
    if ($null -eq $object) { return $null }
    $property = $object.PSObject.Properties[$name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Limit-Text($value, [int]$max) {
    # Host text in one line, bounded as the snapshot demands; empty reads as null.
    if ($null -eq $value) { return $null }
    $text = (([string]$value) -replace '[\s\x00-\x1f\x7f-\x9f]+', ' ').Trim()
    if ($text.Length -eq 0) { return $null }
    if ($text.Length -gt $max) { $text = $text.Substring(0, $max) }
    return $text
}

function ConvertTo-HResult($value) {
    # Int32 as the cmdlets give it (signed), or hex text as event data writes it (0x8078011e).
    if ($null -eq $value) { return $null }
    $text = ([string]$value).Trim()
    if ($text -match '^0[xX][0-9a-fA-F]{1,8}$') {
        return [int64][Convert]::ToUInt32($text.Substring(2), 16)
    }
    $number = [int64]0
    if ([int64]::TryParse($text, [ref]$number)) { return $number }
    return $null
}

function ConvertFrom-EventTime([string]$text) {
    # Event data writes UTC with nine fractional digits, more than .NET parses: keep seven.
    if (-not ($text -match '^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$')) { return $null }
    $fraction = ''
    if ($Matches[2]) { $fraction = $Matches[2].Substring(0, [Math]::Min(8, $Matches[2].Length)) }
    $styles = [System.Globalization.DateTimeStyles]::AdjustToUniversal -bor [System.Globalization.DateTimeStyles]::AssumeUniversal
    $moment = [datetime]::Parse($Matches[1] + $fraction + 'Z', $invariant, $styles)
    return $moment.ToString('yyyy-MM-ddTHH:mm:ss', $invariant) + '+00:00'
}

function ConvertFrom-WBJob($job) {
    # Get-WBJob: the job, then each item's own result (bounded like the snapshot).
    if ($null -eq $job) { return $null }
    $items = @()
    foreach ($item in @(Get-Prop $job 'JobItems')) {
        if ($null -eq $item) { continue }
        if ($items.Count -ge 256) { break }
        $state = Get-Prop $item 'State'
        if ($null -eq $state) { $state = Get-Prop $item 'JobState' }
        $items += [ordered]@{
            name             = Limit-Text (Get-Prop $item 'Name') 512
            type             = Limit-Text (Get-Prop $item 'Type') 64
            state            = Limit-Text $state 64
            hresult          = ConvertTo-HResult (Get-Prop $item 'HResult')
            detailed_hresult = ConvertTo-HResult (Get-Prop $item 'DetailedHResult')
            error            = Limit-Text (Get-Prop $item 'ErrorDescription') 2000
        }
    }
    return [ordered]@{
        type             = Limit-Text (Get-Prop $job 'JobType') 64
        state            = Limit-Text (Get-Prop $job 'JobState') 64
        started_at       = Format-IsoTime (Get-Prop $job 'StartTime')
        ended_at         = Format-IsoTime (Get-Prop $job 'EndTime')
        hresult          = ConvertTo-HResult (Get-Prop $job 'HResult')
        detailed_hresult = ConvertTo-HResult (Get-Prop $job 'DetailedHResult')
        error            = Limit-Text (Get-Prop $job 'ErrorDescription') 2000
        items            = $items
    }
}

function Read-BackupEvents {
    # The newest events of the Microsoft-Windows-Backup channel that start or end a backup
    # (IDs in tests/fixtures/README.md), for when the cmdlets cannot be read. Bounded: 20.
    $ids = @(1, 4, 5, 6, 7, 8, 9, 14, 17, 18, 19, 20, 23, 49, 50, 52)
    $filter = '*[System[(' + (($ids | ForEach-Object { "EventID=$_" }) -join ' or ') + ')]]'
    $rows = @()
    try {
        $found = @(Get-WinEvent -LogName 'Microsoft-Windows-Backup' -FilterXPath $filter -MaxEvents 20)
    } catch {
        # An empty channel is an answer too: no backup has run.
        if ([string]$_.FullyQualifiedErrorId -like 'NoMatchingEventsFound*') { return ,$rows }
        $warnings.Add('the Microsoft-Windows-Backup event log could not be read: ' + (Get-ErrorText $_))
        return $null
    }
    foreach ($record in $found) {
        $data = @{}
        try {
            foreach ($d in @(([xml]$record.ToXml()).Event.EventData.Data)) {
                if ($null -ne $d -and $d.Name) { $data[[string]$d.Name] = [string]$d.'#text' }
            }
        } catch {
            $warnings.Add('the data of backup event ' + [string]$record.Id + ' could not be read: ' + (Get-ErrorText $_))
        }
        $rows += [ordered]@{
            id               = [int]$record.Id
            at               = Format-IsoTime $record.TimeCreated
            hresult          = ConvertTo-HResult $data['HRESULT']
            detailed_hresult = ConvertTo-HResult $data['DetailedHRESULT']
            backup_at        = ConvertFrom-EventTime $data['BackupTime']
        }
    }
    return ,$rows
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
$wbInstalled = $null -ne (Get-Module -ListAvailable -Name WindowsServerBackup)
$wbLoaded = $false
$script:wbSummary = $null
$script:summaryTried = $false
if (-not $wbInstalled) {
    $warnings.Add('the Windows Server Backup feature is not installed, so there is no backup policy to read')
} else {
    try {
        Import-Module -Name WindowsServerBackup
        $wbLoaded = $true
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
            $script:summaryTried = $true
            $summary = Get-WBSummary
            $script:wbSummary = $summary
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

# The latest backup's outcome: Get-WBSummary, Get-WBJob, else the backup event channel. Each
# part is read on its own, so that one failure keeps the others.
$lastBackup = [ordered]@{ summary = $null; job = $null; current_job = $null; events = $null }
if ($wbLoaded) {
    if (-not $script:summaryTried) {
        try {
            $script:wbSummary = Get-WBSummary
        } catch {
            $warnings.Add('the backup history could not be read: ' + (Get-ErrorText $_))
        }
    }
    $summaryObject = $script:wbSummary
    if ($null -ne $summaryObject) {
        $versions = $null
        if ($null -ne (Get-Prop $summaryObject 'NumberOfVersions')) { $versions = [int64](Get-Prop $summaryObject 'NumberOfVersions') }
        $lastBackup.summary = [ordered]@{
            last_backup_at    = Format-IsoTime (Get-Prop $summaryObject 'LastBackupTime')
            last_success_at   = Format-IsoTime (Get-Prop $summaryObject 'LastSuccessfulBackupTime')
            next_backup_at    = Format-IsoTime (Get-Prop $summaryObject 'NextBackupTime')
            result_hresult    = ConvertTo-HResult (Get-Prop $summaryObject 'LastBackupResultHR')
            detailed_hresult  = ConvertTo-HResult (Get-Prop $summaryObject 'LastBackupResultDetailedHR')
            detailed_message  = Limit-Text (Get-Prop $summaryObject 'DetailedMessage') 2000
            versions          = $versions
            current_operation = Limit-Text (Get-Prop $summaryObject 'CurrentOperationStatus') 64
        }
    }
    try {
        # -Previous reads the finished jobs back from the backup events.
        $lastBackup.job = ConvertFrom-WBJob (@(Get-WBJob -Previous 1) | Select-Object -First 1)
    } catch {
        $warnings.Add('the last backup job could not be read: ' + (Get-ErrorText $_))
    }
    try {
        $lastBackup.current_job = ConvertFrom-WBJob (@(Get-WBJob) | Select-Object -First 1)
    } catch {
        $warnings.Add('the running backup job could not be read: ' + (Get-ErrorText $_))
    }
}
# Without the feature there is no backup channel either: nothing more to read.
if ($wbInstalled -and $null -eq $lastBackup.summary -and $null -eq $lastBackup.job) {
    $events = Read-BackupEvents
    if ($null -ne $events) { $lastBackup.events = $events }
}

$snapshot = [ordered]@{
    schema         = 1
    host           = [string]$env:COMPUTERNAME
    collected_at   = Format-IsoTime (Get-Date)
    volumes        = $script:volumeRows
    backup         = $backup
    shadow_storage = $shadowRows
    warnings       = $warnings.ToArray()
    last_backup    = $lastBackup
}
# -Depth: the default of 2 silently truncates nested objects. -InputObject keeps one-element
# arrays as arrays (piping would unwrap them).
$json = ConvertTo-Json -InputObject $snapshot -Depth 8 -Compress
$stdout = [System.Console]::OpenStandardOutput()
$bytes = (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $false).GetBytes($json)
$stdout.Write($bytes, 0, $bytes.Length)
$stdout.Flush()
