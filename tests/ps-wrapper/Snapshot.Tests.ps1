# Export-ProcConnectionSnapshot with the real engine, and Register-ProcConnectionSnapshotTask:
# for real where the ScheduledTasks module is missing (this Linux machine), and against stand-in
# ScheduledTasks commands for what it would register on Windows.
BeforeAll {
    . (Join-Path $PSScriptRoot '_helpers.ps1')
    Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
    Import-Module $ModuleManifest -Force
    $dir = New-TestFolder
    $listener = Start-TestListener
    $port = $listener.LocalEndpoint.Port
}
AfterAll { Remove-TestState -Listener $listener -Folder $dir }

Describe 'Export-ProcConnectionSnapshot' {
    It 'writes a CSV snapshot with time and host on every row, and -Append adds one whole snapshot' {
        $file = Join-Path $dir 'conns.csv'
        Export-ProcConnectionSnapshot -Path $file
        Export-ProcConnectionSnapshot -Path $file -Append
        $lines = Get-Content -LiteralPath $file
        @($lines | Where-Object { $_ -like 'snapshotTime,hostName,*' }).Count | Should -Be 1 -Because 'the header is written once'
        $rows = @(Import-Csv -LiteralPath $file)
        $times = @($rows.snapshotTime | Sort-Object -Unique)
        $times.Count | Should -Be 2
        $rows.hostName | Sort-Object -Unique | Should -Be ([System.Net.Dns]::GetHostName())
        foreach ($t in $times) {
            $mine = @($rows | Where-Object { $_.snapshotTime -eq $t -and $_.localPort -eq "$port" -and $_.state -eq 'LISTEN' })
            $mine.Count | Should -Be 1
            $mine[0].pid | Should -Be "$PID"
        }
    }

    It 'writes NDJSON and returns the file with -PassThru' {
        $file = Join-Path $dir 'conns.ndjson'
        $info = Export-ProcConnectionSnapshot -Path $file -Format Ndjson -PassThru
        $info | Should -BeOfType [System.IO.FileInfo]
        $info.FullName | Should -Be $file
        $records = @(Get-Content -LiteralPath $file | ConvertFrom-Json -DateKind String)
        @($records | Where-Object { $_.localPort -eq $port -and $_.pid -eq $PID }).Count | Should -BeGreaterOrEqual 1
        $records[0].snapshotTime | Should -Match '^\d{4}-\d\d-\d\dT'
    }

    It 'lets the file''s name choose the format: <Name> is <Format>' -ForEach @(
        @{ Name = 'b.ndjson'; Format = 'NDJSON' }
        @{ Name = 'b.jsonl'; Format = 'NDJSON' }
        @{ Name = 'b.log'; Format = 'CSV' }
    ) {
        # As procconn snapshot does: -Append to an NDJSON log adds NDJSON records to it.
        $file = Join-Path $dir $Name
        Export-ProcConnectionSnapshot -Path $file
        Export-ProcConnectionSnapshot -Path $file -Append
        $lines = @(Get-Content -LiteralPath $file)
        if ($Format -eq 'NDJSON') {
            $records = @($lines | ConvertFrom-Json -DateKind String)
            @($records.snapshotTime | Sort-Object -Unique).Count | Should -Be 2
            @($records | Where-Object { $_.localPort -eq $port -and $_.pid -eq $PID }).Count | Should -Be 2
        } else {
            $lines[0] | Should -BeLike 'snapshotTime,hostName,*'
            @(Import-Csv -LiteralPath $file | Where-Object { $_.localPort -eq "$port" -and $_.pid -eq "$PID" }).Count | Should -Be 2
        }
    }

    It '-Format overrides the name: NDJSON in a .log file' {
        $file = Join-Path $dir 'c.log'
        Export-ProcConnectionSnapshot -Path $file -Format Ndjson
        @(Get-Content -LiteralPath $file | ConvertFrom-Json -DateKind String | Where-Object { $_.localPort -eq $port -and $_.pid -eq $PID }).Count | Should -Be 1
    }

    It 'a .json name without -Format is refused, and nothing is written' {
        $file = Join-Path $dir 'd.json'
        $err = $null
        try { Export-ProcConnectionSnapshot -Path $file } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Export-ProcConnectionSnapshot'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike "*ends in .json*-Format Ndjson*"
        $file | Should -Not -Exist
        Export-ProcConnectionSnapshot -Path $file -Format Ndjson
        (Get-Content -LiteralPath $file -TotalCount 1 | ConvertFrom-Json -DateKind String).snapshotTime | Should -Not -BeNullOrEmpty
    }

    It 'a path of another provider (<Path>) is refused, and nothing is written' -ForEach @(
        @{ Path = 'Variable:\procconnSnapshot' }
        @{ Path = 'Env:\PROCCONN_SNAPSHOT' }
    ) {
        # Where the provider path (the name after the drive) would land: the process's working
        # directory, which Push-Location does not change.
        $stray = Join-Path ([System.IO.Directory]::GetCurrentDirectory()) ($Path -replace '^.*\\', '')
        $before = @(Get-ChildItem -LiteralPath $dir -Name)
        Push-Location -LiteralPath $dir
        try {
            $err = $null
            try { Export-ProcConnectionSnapshot -Path $Path -PassThru } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Export-ProcConnectionSnapshot'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike "'$Path' is not a file-system path*"
            @(Get-ChildItem -LiteralPath $dir -Name) | Should -Be $before
            $stray | Should -Not -Exist
            Test-Path -LiteralPath $Path | Should -BeFalse
        } finally {
            Pop-Location
            Remove-Item -LiteralPath $stray -ErrorAction Ignore
        }
    }

    It 'a blank path is refused, and nothing is written' {
        $before = @(Get-ChildItem -LiteralPath $dir -Name)
        Push-Location -LiteralPath $dir
        try {
            $err = $null
            try { Export-ProcConnectionSnapshot -Path ' ' } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Export-ProcConnectionSnapshot'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Be "The path ' ' is blank: give the snapshot file's name, such as ./conns.csv"
            @(Get-ChildItem -LiteralPath $dir -Name) | Should -Be $before
        } finally {
            Pop-Location
        }
    }

    It 'a path with a wildcard (<Name>) is refused, and nothing is written' -ForEach @(
        @{ Name = '*.csv' }, @{ Name = 'conns?.csv' }
    ) {
        $before = @(Get-ChildItem -LiteralPath $dir -Name)
        $err = $null
        try { Export-ProcConnectionSnapshot -Path (Join-Path $dir $Name) -Append } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Export-ProcConnectionSnapshot'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike "*has a wildcard (* or ?): a snapshot is written to one file*"
        @(Get-ChildItem -LiteralPath $dir -Name) | Should -Be $before
    }

    It 'a drive made inside a function is refused with what to do instead' {
        function Save-InFunction {
            New-PSDrive -Name ProcConnEvidence -PSProvider FileSystem -Root $dir | Out-Null
            Export-ProcConnectionSnapshot -Path ProcConnEvidence:/in-function.csv
        }
        $err = $null
        try { Save-InFunction } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Export-ProcConnectionSnapshot'
        $err.Exception.Message | Should -BeLike '*make it with -Scope Global, or give the file-system path*'
        New-PSDrive -Name ProcConnEvidence -PSProvider FileSystem -Root $dir -Scope Global | Out-Null
        try {
            Export-ProcConnectionSnapshot -Path ProcConnEvidence:/global.csv
            Join-Path $dir 'global.csv' | Should -Exist
        } finally {
            Remove-PSDrive -Name ProcConnEvidence -Scope Global
        }
    }

    It 'resolves a relative path against the current location' {
        Push-Location $dir
        try {
            Export-ProcConnectionSnapshot -Path 'relative.csv'
        } finally {
            Pop-Location
        }
        Join-Path $dir 'relative.csv' | Should -Exist
    }

    It '-WhatIf writes nothing' {
        $file = Join-Path $dir 'whatif.csv'
        Export-ProcConnectionSnapshot -Path $file -WhatIf
        $file | Should -Not -Exist
    }

    It 'the engine''s failure (a folder that does not exist) is a terminating error with its message' {
        $file = Join-Path $dir 'no-such-folder/conns.csv'
        $err = $null
        try { Export-ProcConnectionSnapshot -Path $file } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnSnapshot,Export-ProcConnectionSnapshot'
        $err.Exception.Message | Should -BeLike "Cannot write the snapshot to `"$file`": *"
        $err.TargetObject | Should -Be $file
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Join-Path $dir 'no-such-folder' | Should -Not -Exist
    }

    It 'any other failure the engine reports (a folder given as the file) is a WriteError' {
        $err = $null
        try { Export-ProcConnectionSnapshot -Path $dir -Format Csv } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnSnapshot,Export-ProcConnectionSnapshot'
        $err.Exception.Message | Should -Be "Cannot write the snapshot to `"$dir`": it is not a regular file"
        $err.CategoryInfo.Category | Should -Be 'WriteError'
    }

    It 'what the engine said before it failed stays on its own line, apart from the failure' {
        $file = Join-Path $dir 'two-lines.csv'
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-two-lines') -ExitCode 1 `
            -Stderr "procconn: the owner of 1 endpoint could not be identified (access denied)`nprocconn: Cannot write the snapshot to `"$file`": no space left on the device (ENOSPC)"
        try {
            $err = $null
            try { Export-ProcConnectionSnapshot -Path $file } catch { $err = $_ }
            $err.Exception.Message | Should -Be "the owner of 1 endpoint could not be identified (access denied)`nCannot write the snapshot to `"$file`": no space left on the device (ENOSPC)"
        } finally {
            Remove-Item Env:PROCCONN_EXE
        }
    }

    It 'a refused permission the engine reports (<Code>) is PermissionDenied' -ForEach @(
        @{ Code = 'EACCES' }, @{ Code = 'EPERM' }
    ) {
        # Run as root, nothing is refused here: a stand-in engine says what a user would be told.
        $file = Join-Path $dir "refused-$Code.csv"
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir "stand-in-$Code") -ExitCode 1 `
            -Stderr "procconn: Cannot write the snapshot to `"$file`": no permission to create files in `"$dir`" ($Code)"
        try {
            $err = $null
            try { Export-ProcConnectionSnapshot -Path $file } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnSnapshot,Export-ProcConnectionSnapshot'
            $err.Exception.Message | Should -Be "Cannot write the snapshot to `"$file`": no permission to create files in `"$dir`" ($Code)"
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        } finally {
            Remove-Item Env:PROCCONN_EXE
        }
    }
}

Describe 'Register-ProcConnectionSnapshotTask' {
    It 'without the ScheduledTasks module: a clear terminating error' {
        Get-Command Register-ScheduledTask -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'this machine has no ScheduledTasks module'
        $err = $null
        try { Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 't.csv') -Interval (New-TimeSpan -Minutes 5) -Confirm:$false } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnNoScheduledTasks,Register-ProcConnectionSnapshotTask'
        $err.CategoryInfo.Category | Should -Be 'NotInstalled'
        $err.Exception.Message | Should -BeLike 'The ScheduledTasks module is not available here*cron*'
    }

    It 'refuses an interval of <Interval>' -ForEach @(
        @{ Interval = '00:00:30' }
        @{ Interval = '32.00:00:00' }
    ) {
        { Register-ProcConnectionSnapshotTask -Path x.csv -Interval $Interval -WhatIf } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,Register-ProcConnectionSnapshotTask' -ExpectedMessage "*The interval '$Interval' is out of range*"
    }

    Context 'with stand-ins for the ScheduledTasks commands' {
        BeforeAll {
            # What Windows' ScheduledTasks module would be given: each stand-in records its arguments.
            $script:calls = [System.Collections.Generic.List[object]]::new()
            $script:existingTasks = @()
            $standIns = @'
function global:New-ScheduledTaskAction { param($Execute, $Argument) $script:calls.Add(@{ Command = 'Action'; Execute = $Execute; Argument = $Argument }); [pscustomobject]@{ Execute = $Execute; Arguments = $Argument } }
function global:New-ScheduledTaskTrigger { param([switch]$Once, $At, $RepetitionInterval) $script:calls.Add(@{ Command = 'Trigger'; Once = [bool]$Once; At = $At; RepetitionInterval = $RepetitionInterval }); 'trigger' }
function global:New-ScheduledTaskPrincipal { param($UserId, $RunLevel, $LogonType) $script:calls.Add(@{ Command = 'Principal'; UserId = $UserId; RunLevel = $RunLevel; LogonType = $LogonType }); 'principal' }
function global:New-ScheduledTaskSettingsSet { param($MultipleInstances, [switch]$StartWhenAvailable, [switch]$AllowStartIfOnBatteries, [switch]$DontStopIfGoingOnBatteries) $script:calls.Add(@{ Command = 'Settings'; MultipleInstances = $MultipleInstances; StartWhenAvailable = [bool]$StartWhenAvailable; OnBatteries = [bool]$AllowStartIfOnBatteries -and [bool]$DontStopIfGoingOnBatteries }); 'settings' }
function global:Get-ScheduledTask { param($TaskName, $TaskPath) $script:calls.Add(@{ Command = 'Get'; TaskName = $TaskName; TaskPath = $TaskPath }); if ("$TaskPath$TaskName" -in $script:existingTasks) { [pscustomobject]@{ TaskName = $TaskName } } }
function global:Register-ScheduledTask { param($TaskName, $TaskPath, $Action, $Trigger, $Principal, $Settings, [switch]$Force, $Description) $script:calls.Add(@{ Command = 'Register'; TaskName = $TaskName; TaskPath = $TaskPath; Action = $Action; Force = [bool]$Force; Description = $Description }); [pscustomobject]@{ TaskName = $TaskName } }
'@
            . ([scriptblock]::Create($standIns))
            # The checkout's engine stands where an installed one would: in a folder only
            # administrators may change (see the warning's own tests below).
            $savedProgramFiles = $env:ProgramFiles
            $env:ProgramFiles = $Repo
        }
        AfterAll {
            $env:ProgramFiles = $savedProgramFiles
            foreach ($f in 'Get-ScheduledTask', 'New-ScheduledTaskAction', 'New-ScheduledTaskTrigger', 'New-ScheduledTaskPrincipal', 'New-ScheduledTaskSettingsSet', 'Register-ScheduledTask') {
                Remove-Item "Function:\$f" -ErrorAction Ignore
            }
        }
        BeforeEach { $script:calls.Clear(); $script:existingTasks = @() }

        It 'registers a task that runs the engine directly, every interval, as SYSTEM' {
            $file = Join-Path $dir 'snap shots/conns.csv'
            New-Item -ItemType Directory -Path (Join-Path $dir 'snap shots') -Force | Out-Null
            $task = Register-ProcConnectionSnapshotTask -Path $file -Interval (New-TimeSpan -Minutes 5) -Confirm:$false -WarningVariable warnings
            @($warnings).Count | Should -Be 0
            $task.TaskName | Should -Be 'ProcConn snapshot'
            $action = $script:calls | Where-Object Command -eq 'Action'
            $action.Execute | Should -Be $Deno -Because 'the module in the checkout runs the checkout''s engine'
            $action.Argument | Should -BeLike "run *`"$file`" --append"
            $action.Argument | Should -BeLike "* $(Join-Path $Repo 'main.ts') snapshot --out *"
            $trigger = $script:calls | Where-Object Command -eq 'Trigger'
            $trigger.Once | Should -BeTrue
            $trigger.RepetitionInterval | Should -Be ([timespan]::FromMinutes(5))
            $principal = $script:calls | Where-Object Command -eq 'Principal'
            $principal.UserId | Should -Be 'NT AUTHORITY\SYSTEM' -Because 'off Windows a service account is named in English'
            $principal.LogonType | Should -Be 'ServiceAccount'
            $principal.RunLevel | Should -Be 'Highest'
            $settings = $script:calls | Where-Object Command -eq 'Settings'
            $settings.MultipleInstances | Should -Be 'IgnoreNew'
            $settings.StartWhenAvailable | Should -BeTrue
            $settings.OnBatteries | Should -BeTrue -Because 'Task Scheduler skips runs on battery by default'
            $register = $script:calls | Where-Object Command -eq 'Register'
            $register.TaskPath | Should -Be '\'
            $register.Force | Should -BeFalse
            $register.Description | Should -BeLike "*$file*"
        }

        It 'another account runs unattended without a stored password (S4U); -Force replaces' {
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'c.log') -Format Ndjson -Interval 00:01:00 -User 'CORP\ir-svc' -TaskName 'IR' -TaskPath '\ProcConn\' -Force -Confirm:$false | Out-Null
            $principal = $script:calls | Where-Object Command -eq 'Principal'
            $principal.LogonType | Should -Be 'S4U'
            $principal.UserId | Should -Be 'CORP\ir-svc'
            ($script:calls | Where-Object Command -eq 'Action').Argument | Should -BeLike '*--append --format ndjson'
            $register = $script:calls | Where-Object Command -eq 'Register'
            $register.TaskName | Should -Be 'IR'
            $register.TaskPath | Should -Be '\ProcConn\'
            $register.Force | Should -BeTrue
        }

        It 'passes --format only for -Format: the engine''s own rule (the name) decides otherwise' {
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'c.ndjson') -Interval 00:05:00 -Confirm:$false | Out-Null
            $argument = ($script:calls | Where-Object Command -eq 'Action').Argument
            $argument | Should -BeLike "* snapshot --out $(Join-Path $dir 'c.ndjson') --append"
            $argument | Should -Not -BeLike '*--format*'
            $script:calls.Clear()
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'c.ndjson') -Format Csv -Interval 00:05:00 -Confirm:$false | Out-Null
            ($script:calls | Where-Object Command -eq 'Action').Argument | Should -BeLike '*--append --format csv'
        }

        It 'refuses <Path> and registers nothing' -ForEach @(
            @{ Path = 'c.json'; Pattern = '*ends in .json*' }
            @{ Path = 'Variable:\conns'; Pattern = "'Variable:\conns' is not a file-system path*" }
            @{ Path = ' '; Pattern = "The path ' ' is blank*" }
        ) {
            $err = $null
            try { Register-ProcConnectionSnapshotTask -Path $Path -Interval 00:05:00 -Confirm:$false } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnPath,Register-ProcConnectionSnapshotTask'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike $Pattern
            $script:calls.Count | Should -Be 0
        }

        It 'a folder that does not exist is a warning (every run would fail until it is made), and the task is registered' {
            $missing = Join-Path $dir 'no such folder'
            Register-ProcConnectionSnapshotTask -Path (Join-Path $missing 'c.csv') -Interval 00:05:00 -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
            @($warnings).ForEach({ "$_" }) | Should -Be "The folder '$missing' does not exist: every run of the task fails until it does (the snapshot makes the file, not its folder)."
            @($script:calls | Where-Object Command -eq 'Register').Count | Should -Be 1
        }

        It 'refuses a file already there that no run could append to (<Name>), and registers nothing' -ForEach @(
            @{ Name = 'other columns'; File = 'other.csv'; Content = "a,b`r`n1,2`r`n"; Pattern = '*its header "a,b" differs*' }
            @{ Name = 'NDJSON named .csv'; File = 'records.csv'; Content = "{`"pid`":1}`n"; Pattern = '*is an NDJSON record, not a CSV header*' }
        ) {
            $path = Join-Path $dir $File
            Set-Content -LiteralPath $path -Value $Content -NoNewline
            $err = $null
            try { Register-ProcConnectionSnapshotTask -Path $path -Interval 00:05:00 -Confirm:$false } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnSnapshotTask,Register-ProcConnectionSnapshotTask'
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike "Cannot append the snapshot to `"$path`": $Pattern"
            $script:calls.Count | Should -Be 0
            Get-Content -LiteralPath $path -Raw | Should -Be $Content
        }

        It 'registers for a file that already holds snapshots, and leaves it alone' {
            $path = Join-Path $dir 'kept.csv'
            Export-ProcConnectionSnapshot -Path $path -WarningAction SilentlyContinue
            $before = Get-Content -LiteralPath $path -Raw
            Register-ProcConnectionSnapshotTask -Path $path -Interval 00:05:00 -Confirm:$false | Out-Null
            @($script:calls | Where-Object Command -eq 'Register').Count | Should -Be 1
            Get-Content -LiteralPath $path -Raw | Should -Be $before
        }

        It 'refuses a folder given as the file, and registers nothing' {
            $folder = Join-Path $dir 'a folder'
            New-Item -ItemType Directory -Path $folder -Force | Out-Null
            $err = $null
            try { Register-ProcConnectionSnapshotTask -Path $folder -Interval 00:05:00 -Confirm:$false } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnSnapshotTask,Register-ProcConnectionSnapshotTask'
            $err.Exception.Message | Should -Be "Cannot append the snapshot to `"$folder`": it is not a regular file"
            @($script:calls | Where-Object Command -eq 'Register').Count | Should -Be 0
        }

        It 'stops before registering over a task of the same name, unless -Force' {
            $script:existingTasks = @('\IR\Snap')
            $err = $null
            try { Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'e.csv') -Interval 00:05:00 -TaskName Snap -TaskPath '\IR' -Confirm:$false } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -Be 'ProcConnTaskExists,Register-ProcConnectionSnapshotTask'
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            $err.Exception.Message | Should -Be "The task '\IR\Snap' already exists: give -Force to replace it, or another -TaskName."
            @($script:calls | Where-Object Command -eq 'Register').Count | Should -Be 0
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'e.csv') -Interval 00:05:00 -TaskName Snap -TaskPath '\IR' -Force -Confirm:$false | Out-Null
            ($script:calls | Where-Object Command -eq 'Register').Force | Should -BeTrue
        }

        It 'runs <User> as a service account named <UserId>' -ForEach @(
            @{ User = 'LocalSystem'; UserId = 'NT AUTHORITY\SYSTEM' }
            @{ User = 's-1-5-18'; UserId = 'NT AUTHORITY\SYSTEM' }
            @{ User = '.\SYSTEM'; UserId = 'NT AUTHORITY\SYSTEM' }
            @{ User = 'nt authority\system'; UserId = 'NT AUTHORITY\SYSTEM' }
            @{ User = 'LocalService'; UserId = 'NT AUTHORITY\LOCAL SERVICE' }
            @{ User = 'NT AUTHORITY\LocalService'; UserId = 'NT AUTHORITY\LOCAL SERVICE' }
            @{ User = 'S-1-5-19'; UserId = 'NT AUTHORITY\LOCAL SERVICE' }
            @{ User = 'network service'; UserId = 'NT AUTHORITY\NETWORK SERVICE' }
            @{ User = 'S-1-5-20'; UserId = 'NT AUTHORITY\NETWORK SERVICE' }
        ) {
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'u.csv') -Interval 00:05:00 -User $User -Confirm:$false | Out-Null
            $principal = $script:calls | Where-Object Command -eq 'Principal'
            $principal.LogonType | Should -Be 'ServiceAccount'
            $principal.UserId | Should -Be $UserId
        }

        It 'runs <User>, which only looks like a service account, as S4U' -ForEach @(
            @{ User = 'CORP\SYSTEM' }
            @{ User = 'S-1-5-21-1-2-3-500' }
            @{ User = 'systemd' }
        ) {
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'u.csv') -Interval 00:05:00 -User $User -Confirm:$false | Out-Null
            $principal = $script:calls | Where-Object Command -eq 'Principal'
            $principal.LogonType | Should -Be 'S4U'
            $principal.UserId | Should -Be $User
        }

        It 'warns, before asking, when the engine sits where others may replace it, naming the files' {
            $env:ProgramFiles = "$Repo-other"
            try {
                Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'u.csv') -Interval 00:05:00 -WhatIf -WarningVariable warnings -WarningAction SilentlyContinue
            } finally {
                $env:ProgramFiles = $Repo
            }
            $said = @($warnings).ForEach({ "$_" })
            $said.Count | Should -Be 1
            $said[0] | Should -BeLike "The task runs '$Deno', '$(Join-Path $Repo 'main.ts')' as NT AUTHORITY\SYSTEM, from outside the Program Files folders, which only administrators may change: whoever can replace that file*"
            @($script:calls | Where-Object Command -eq 'Register').Count | Should -Be 0
        }

        It 'a folder whose name only starts like a protected one is not protected' {
            InModuleScope ProcConn -Parameters @{ Root = $dir } {
                param($Root)
                $saved = $env:ProgramFiles, $env:SystemRoot
                try {
                    $env:ProgramFiles = Join-Path $Root 'Program Files'
                    $env:SystemRoot = $Root # the Windows folder is not taken as protected: parts of it are not
                    $inside = Join-Path $Root 'Program Files/procconn/procconn.exe'
                    $beside = Join-Path $Root 'Program Files Evil/procconn.exe'
                    $dotted = Join-Path $Root 'Program Files/../elsewhere/procconn.exe'
                    @(Get-ProcConnUnprotectedPath -Path $inside, $beside, $dotted) |
                        Should -Be @($beside, (Join-Path $Root 'elsewhere/procconn.exe'))
                    $winTemp = Join-Path $Root 'Temp/procconn.exe'
                    @(Get-ProcConnUnprotectedPath -Path $winTemp) | Should -Be @($winTemp)
                    @(Get-ProcConnUnprotectedPath -Path $inside.ToUpperInvariant()).Count | Should -Be 0 -Because 'Windows paths are compared without regard to case'
                } finally {
                    $env:ProgramFiles, $env:SystemRoot = $saved
                }
            }
        }

        It '-WhatIf registers nothing' {
            Register-ProcConnectionSnapshotTask -Path (Join-Path $dir 'w.csv') -Interval 00:05:00 -WhatIf
            @($script:calls | Where-Object Command -ne 'Get').Count | Should -Be 0 -Because 'only the lookup of a task of that name runs'
        }
    }

    It 'where no prompt can be shown, stops with an error instead of going ahead' {
        $file = Join-Path $dir 'unconfirmed.csv'
        $script = @"
function New-ScheduledTaskAction {} function New-ScheduledTaskTrigger {} function New-ScheduledTaskPrincipal {}
function New-ScheduledTaskSettingsSet {} function Get-ScheduledTask {}
function Register-ScheduledTask { 'REGISTERED' }
`$env:ProgramFiles = '$Repo' # the engine where an installed one would be: no warning
Import-Module '$ModuleManifest'
try { Register-ProcConnectionSnapshotTask -Path '$file' -Interval 00:05:00; 'WENT ON' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId + ' ' + `$_.Exception.Message }
try { Export-ProcConnectionSnapshot -Path '$file' -Confirm; 'WENT ON' } catch { 'ERROR ' + `$_.FullyQualifiedErrorId }
"@
        $r = Invoke-TestPwsh -Script $script
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $lines = @($r.Stdout -split '\r?\n' | Where-Object { $_ })
        $lines.Count | Should -Be 2 -Because $r.Stdout
        $lines[0] | Should -BeLike 'ERROR ProcConnCannotConfirm,Register-ProcConnectionSnapshotTask Cannot ask whether to register scheduled task (*NonInteractive*Nothing was done; give -Confirm:$false to go ahead without asking, or -WhatIf to see what would be done.'
        $lines[1] | Should -Be 'ERROR ProcConnCannotConfirm,Export-ProcConnectionSnapshot'
        $file | Should -Not -Exist
    }

    It '-WhatIf shows the task and its full command line' {
        $file = Join-Path $dir 'what if.csv'
        $script = @"
function New-ScheduledTaskAction {} function New-ScheduledTaskTrigger {} function New-ScheduledTaskPrincipal {}
function New-ScheduledTaskSettingsSet {} function Register-ScheduledTask { throw 'registered' } function Get-ScheduledTask {}
`$env:ProgramFiles = '$Repo' # the engine where an installed one would be: no warning
Import-Module '$ModuleManifest'
Register-ProcConnectionSnapshotTask -Path '$file' -Interval 00:05:00 -WhatIf
Register-ProcConnectionSnapshotTask -Path '$file' -Interval 00:05:00 -TaskPath '\IR' -WhatIf
"@
        $r = Invoke-TestPwsh -Script $script
        $r.ExitCode | Should -Be 0 -Because $r.Stderr
        $r.Stderr | Should -BeNullOrEmpty
        $text = $r.Stdout -replace '\s+', ' '
        $text | Should -BeLike "What if: Performing the operation `"Register scheduled task`" on target `"task '\ProcConn snapshot' as NT AUTHORITY\SYSTEM, every 00:05:00 from now: `"$Deno`" run *main.ts snapshot --out `"$file`" --append`".*"
        # A folder given without its closing backslash is still shown apart from the name.
        $text | Should -BeLike "*on target `"task '\IR\ProcConn snapshot' as NT AUTHORITY\SYSTEM*"
    }
}
