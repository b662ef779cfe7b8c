function Register-ProcConnectionSnapshotTask {
    <#
    .SYNOPSIS
    Registers a Windows scheduled task that appends a procconn snapshot to a file at an interval.

    .DESCRIPTION
    Register-ProcConnectionSnapshotTask registers a scheduled task (ScheduledTasks module, Windows
    8 / Server 2012 and later) that runs the procconn engine directly, without PowerShell:

        procconn.exe snapshot --out <Path> --append [--format <Format>]

    from now on, every -Interval, as -User (SYSTEM by default, so that every process's details
    can be read). Each run adds one whole snapshot with its time and host (see
    Export-ProcConnectionSnapshot); a run still going when the next is due is not doubled.

    The task gives its account's rights to whoever may replace the engine: when the engine is
    outside the Program Files folders, which only administrators may change by default (for
    example in the CurrentUser module scope or on a removable drive), the command warns before
    asking.

    The command changes the system, so it asks for confirmation; -WhatIf shows the task it would
    register, with its full command line, and registers nothing. An existing task of the same
    name is replaced only with -Force; without it, the command stops before registering. The task
    runs on battery power too.

    Where the ScheduledTasks module is not available (Linux, macOS), the command stops with an
    error; on Linux, schedule the same command with cron (see about_ProcConn).

    .PARAMETER Path
    The file the snapshots are appended to. Relative paths are relative to the current location.
    It must be a file-system path: a path of another provider (Variable:\x, Env:\x) is refused.
    Its folder must exist when the task runs (a snapshot makes the file, not the folder): a folder
    missing now is a warning. A file already there must take the snapshots: one with other columns
    or in the other format is refused, and nothing is registered. The task's account must reach it: SYSTEM does not see the network
    drives mapped in your session, and an S4U account has no network credentials, so give a local
    path, or a UNC path the computer's account may write to.

    .PARAMETER Interval
    Time between snapshots: at least 1 minute, at most 31 days.

    .PARAMETER TaskName
    The task's name (default "ProcConn snapshot").

    .PARAMETER TaskPath
    The task folder (default "\").

    .PARAMETER User
    The account the task runs as (default SYSTEM). SYSTEM, LOCAL SERVICE and NETWORK SERVICE run
    as service accounts, under any of their names (LocalSystem, NT AUTHORITY\SYSTEM, S-1-5-18,
    LocalService, NetworkService, ..., or the system's own language); any other account runs
    whether or not it is logged on, without a stored password (S4U).

    .PARAMETER Format
    Csv or Ndjson, passed to the engine as --format. Without it the file's name decides at each
    run, as for procconn snapshot: NDJSON for a name ending in .ndjson or .jsonl, CSV for any
    other. A name ending in .json needs -Format (one JSON document cannot take appended
    snapshots).

    .PARAMETER Force
    Replaces an existing task of the same name.

    .EXAMPLE
    Register-ProcConnectionSnapshotTask -Path C:\Logs\conns.csv -Interval (New-TimeSpan -Minutes 5)

    Every 5 minutes, as SYSTEM, adds a snapshot to C:\Logs\conns.csv (asks for confirmation).

    .EXAMPLE
    Register-ProcConnectionSnapshotTask -Path C:\Logs\conns.csv -Interval (New-TimeSpan -Minutes 5) -WhatIf

    Shows the task and its command line without registering it.

    .EXAMPLE
    Register-ProcConnectionSnapshotTask -Path D:\IR\conns.ndjson -Interval (New-TimeSpan -Minutes 1) -TaskName 'IR snapshot' -Force -Confirm:$false

    Replaces the task "IR snapshot" with one that writes NDJSON every minute, without asking.

    .OUTPUTS
    Microsoft.Management.Infrastructure.CimInstance#MSFT_ScheduledTask, as Register-ScheduledTask returns it.

    .LINK
    Export-ProcConnectionSnapshot

    .LINK
    about_ProcConn
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('Microsoft.Management.Infrastructure.CimInstance#MSFT_ScheduledTask')]
    param(
        [Parameter(Mandatory, Position = 0)]
        [ValidateNotNullOrEmpty()]
        [string] $Path,

        [Parameter(Mandatory)]
        [ValidateScript({ $_ -ge [timespan]::FromMinutes(1) -and $_ -le [timespan]::FromDays(31) }, ErrorMessage = "The interval '{0}' is out of range: use 1 minute to 31 days, e.g. (New-TimeSpan -Minutes 5)")]
        [timespan] $Interval,

        [ValidateNotNullOrEmpty()]
        [string] $TaskName = 'ProcConn snapshot',

        [ValidatePattern('^\\', ErrorMessage = "The task path '{0}' must start with a backslash, e.g. \ or \ProcConn\")]
        [string] $TaskPath = '\',

        [ValidateNotNullOrEmpty()]
        [string] $User = 'SYSTEM',

        [ValidateSet('Csv', 'Ndjson')]
        [string] $Format,

        [switch] $Force
    )

    $needed = 'Get-ScheduledTask', 'New-ScheduledTaskAction', 'New-ScheduledTaskTrigger', 'New-ScheduledTaskPrincipal',
    'New-ScheduledTaskSettingsSet', 'Register-ScheduledTask'
    $missing = @($needed | Where-Object { -not (Get-Command -Name $_ -ErrorAction Ignore) })
    if ($missing.Count) {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.PlatformNotSupportedException]::new(
                    "The ScheduledTasks module is not available here ($($missing -join ', ') missing): Register-ProcConnectionSnapshotTask needs Windows 8 / Server 2012 or later. On Linux, add a cron line instead: */5 * * * * procconn snapshot --out /var/log/procconn/conns.csv --append"),
                'ProcConnNoScheduledTasks', 'NotInstalled', $null))
    }

    try {
        $file = Resolve-ProcConnSnapshotPath -Path $Path -Format $Format -Cmdlet $PSCmdlet
    } catch {
        $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord $_.Exception 'ProcConnPath' $Path))
    }
    # The engine makes the file but not its folder: the task would fail at every run until the
    # folder is there (it may be made later, so this is said, not refused).
    $fileFolder = [System.IO.Path]::GetDirectoryName($file)
    $folderMissing = $fileFolder -and -not [System.IO.Directory]::Exists($fileFolder)
    if ($folderMissing) {
        Write-Warning "The folder '$fileFolder' does not exist: every run of the task fails until it does (the snapshot makes the file, not its folder)."
    }
    # --format only when asked for: otherwise the engine's own rule (the file's name) applies.
    $snapshot = [string[]]@('snapshot', '--out', $file, '--append')
    if ($Format) { $snapshot += '--format', $Format.ToLowerInvariant() }
    try {
        $engine = Resolve-ProcConnEngine
        $argumentLine = Join-ProcConnCommandLine -ArgumentList ([string[]]@($engine.Arguments) + $snapshot)
    } catch {
        $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord $_.Exception 'ProcConnSnapshotTask' $file))
    }
    # A path no run could append to (a folder, a file with other columns or in the other format)
    # would fail every run, unseen: the engine checks it now, and writes nothing.
    if (-not $folderMissing) {
        try {
            Invoke-ProcConnEngine -ArgumentList ($snapshot + '--check') -Cmdlet $PSCmdlet | Out-Null
        } catch {
            $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord $_.Exception 'ProcConnSnapshotTask' $file -Failure InvalidData))
        }
    }
    # Task Scheduler reads '\IR' and '\IR\' as the same folder.
    $folder = if ($TaskPath.EndsWith('\')) { $TaskPath } else { "$TaskPath\" }
    # Register-ScheduledTask's own answer to a name in use is a bare "file already exists".
    if (-not $Force -and (Get-ScheduledTask -TaskName $TaskName -TaskPath $folder -ErrorAction Ignore)) {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("The task '$folder$TaskName' already exists: give -Force to replace it, or another -TaskName."),
                'ProcConnTaskExists', 'ResourceExists', "$folder$TaskName"))
    }
    $account = Resolve-ProcConnTaskAccount -User $User
    # The task hands the account's rights to whoever may replace what it runs: the engine, and
    # for a checkout the script Deno runs (its modules sit beside it).
    $runs = @($engine.FilePath) + @($engine.Arguments | Where-Object {
            [System.IO.Path]::IsPathRooted($_) -and (Test-Path -LiteralPath $_ -PathType Leaf)
        })
    $unprotected = @(Get-ProcConnUnprotectedPath -Path $runs)
    if ($unprotected.Count) {
        Write-Warning ("The task runs '$($unprotected -join "', '")' as $($account.UserId), from outside the Program Files folders, which only administrators may change: " +
            "whoever can replace that file, or change the folder it is in, runs code as $($account.UserId). Put procconn in such a folder (e.g. C:\Program Files\procconn, with the ProcConn module beside it) and register from there.")
    }
    $target = "task '$folder$TaskName' as $($account.UserId), every $Interval from now: `"$($engine.FilePath)`" $argumentLine"
    if (-not (Confirm-ProcConnAction -Cmdlet $PSCmdlet -Target $target -Action 'Register scheduled task')) { return }

    $action = New-ScheduledTaskAction -Execute $engine.FilePath -Argument $argumentLine
    $trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval $Interval
    $principal = New-ScheduledTaskPrincipal -UserId $account.UserId -RunLevel Highest -LogonType $(if ($account.ServiceAccount) { 'ServiceAccount' } else { 'S4U' })
    # Task Scheduler's defaults would skip every run on battery, and stop one when the power goes.
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -StartWhenAvailable `
        -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
    Register-ScheduledTask -TaskName $TaskName -TaskPath $TaskPath -Action $action -Trigger $trigger `
        -Principal $principal -Settings $settings -Force:$Force `
        -Description "Appends a procconn snapshot of every TCP and UDP endpoint to $file every $Interval."
}
