# How the module finds, runs and stops the engine, and how the engine's failures reach the user.
# Module copies outside the checkout see only the engines a test puts in place: stand-in scripts
# that print fixed records, or the real engine behind PROCCONN_EXE.
BeforeAll {
    . (Join-Path $PSScriptRoot '_helpers.ps1')
    $savedPath = $env:PATH
    $dir = New-TestFolder
    $manifest = Copy-TestModule -Destination $dir
    $moduleFolder = Split-Path -Parent $manifest

    # Every place a test may put an engine.
    function Remove-Engines {
        foreach ($f in (Join-Path $moduleFolder 'procconn'), (Join-Path $dir 'procconn'), (Join-Path $dir 'bin/procconn')) {
            Remove-Item -LiteralPath $f -ErrorAction Ignore
        }
    }

    function Use-Module {
        Remove-Module ProcConn -ErrorAction Ignore
        Import-Module $manifest -Force
    }
}
AfterAll {
    $env:PATH = $savedPath
    Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
    Remove-TestState -Folder $dir
}

Describe 'Finding the engine' {
    BeforeEach {
        Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
        $env:PATH = '/usr/bin:/bin'
        Remove-Engines
        Use-Module
    }

    It 'a missing engine is one terminating error naming every place looked' {
        $err = $null
        try { Get-ProcConnection } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnEngine,Get-ProcConnection'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $message = $err.Exception.Message
        $message | Should -BeLike "The procconn engine was not found. Looked in: *"
        $message | Should -BeLike "*$(Join-Path $moduleFolder 'procconn')*"
        $message | Should -BeLike "*$(Join-Path $dir 'procconn')*"
        $message | Should -BeLike '*$env:PROCCONN_EXE (not set)*'
        $message | Should -BeLike '*a procconn checkout at*'
        $message | Should -BeLike '*procconn on the PATH*'
        $message.Contains("`n") | Should -BeFalse
    }

    It 'PROCCONN_EXE naming a missing file is an error naming it' {
        $env:PROCCONN_EXE = Join-Path $dir 'no-such-engine'
        { Get-ProcConnection } | Should -Throw -ExpectedMessage "*PROCCONN_EXE names '$(Join-Path $dir 'no-such-engine')', which is not a file*"
    }

    It 'the module folder comes first, then the folder holding it, then PROCCONN_EXE, then PATH' {
        $inModule = New-StandInEngine -Path (Join-Path $moduleFolder 'procconn') -Stdout (New-TestRecordLine -ProcessName in-module)
        $besideModule = New-StandInEngine -Path (Join-Path $dir 'procconn') -Stdout (New-TestRecordLine -ProcessName beside-module)
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-env') -Stdout (New-TestRecordLine -ProcessName from-env)
        $pathDir = Join-Path $dir 'bin'
        New-Item -ItemType Directory -Force $pathDir | Out-Null
        New-StandInEngine -Path (Join-Path $pathDir 'procconn') -Stdout (New-TestRecordLine -ProcessName on-path) | Out-Null
        $env:PATH = "${pathDir}:/usr/bin:/bin"

        (Get-ProcConnection).ProcessName | Should -Be 'in-module'
        Remove-Item $inModule
        (Get-ProcConnection).ProcessName | Should -Be 'beside-module'
        Remove-Item $besideModule
        (Get-ProcConnection).ProcessName | Should -Be 'from-env'
        Remove-Item Env:PROCCONN_EXE
        (Get-ProcConnection).ProcessName | Should -Be 'on-path'
    }

    It 'a relative PROCCONN_EXE is taken from the current location, and the engine started from there' {
        # A fresh PowerShell whose process works in / while its location is the test folder: the
        # engine must be looked for and started at the same place.
        New-StandInEngine -Path (Join-Path $dir 'stand-in-relative') -Stdout (New-TestRecordLine -ProcessName relative) | Out-Null
        $script = "Set-Location -LiteralPath '$dir'; Import-Module '$manifest'; (Get-ProcConnection -ErrorAction Stop).ProcessName"
        $r = Invoke-TestPwsh -Script $script -Environment @{ PROCCONN_EXE = 'stand-in-relative' } -WorkingDirectory '/'
        $r.Stderr | Should -BeNullOrEmpty
        $r.Stdout.Trim() | Should -Be 'relative'
        $r.ExitCode | Should -Be 0
        # Not there: the error names the full path it looked at.
        $env:PROCCONN_EXE = './no-such-engine'
        Push-Location -LiteralPath $dir
        try {
            { Get-ProcConnection } | Should -Throw -ExpectedMessage "*PROCCONN_EXE names './no-such-engine' ($(Join-Path $dir 'no-such-engine')), which is not a file*"
        } finally {
            Pop-Location
        }
    }

    It 'the checkout''s engine is used when the module sits in a procconn checkout' {
        Remove-Module ProcConn -ErrorAction Ignore
        Import-Module $ModuleManifest -Force
        $listener = Start-TestListener
        try {
            $rows = @(Get-ProcConnection -LocalPort $listener.LocalEndpoint.Port -OwningProcess $PID -Verbose 4>&1)
            $verbose = $rows | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
            "$verbose" | Should -BeLike "procconn engine (checkout): $Deno run * $(Join-Path $Repo 'main.ts') --format ndjson*"
            @($rows | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).OwningProcess | Should -Be $PID
        } finally {
            $listener.Stop()
        }
    }

    It 'PROCCONN_EXE runs the real engine' {
        $wrapper = Join-Path $dir 'stand-in-real'
        Set-Content -LiteralPath $wrapper -Value "#!/bin/sh`nexec '$Deno' run --allow-all '$(Join-Path $Repo 'main.ts')' `"`$@`"`n"
        chmod +x $wrapper
        $env:PROCCONN_EXE = $wrapper
        $listener = Start-TestListener -Address ([ipaddress]::IPv6Loopback)
        try {
            $rows = @(Get-ProcConnection -LocalPort $listener.LocalEndpoint.Port -AddressFamily IPv6)
            $rows.Count | Should -Be 1
            $rows[0].OwningProcess | Should -Be $PID
            $rows[0].LocalAddress | Should -Be '::1'
        } finally {
            $listener.Stop()
        }
    }
}

Describe 'Running the engine' {
    BeforeAll {
        $env:PATH = $savedPath
        Remove-Engines
        Use-Module
    }
    AfterEach { Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore }

    It 'an engine failure is a terminating error with the engine''s message, after the rows it wrote' {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-fails') -ExitCode 1 `
            -Stdout (New-TestRecordLine) -Stderr 'procconn: Cannot read the socket table: permission denied'
        $got = [System.Collections.Generic.List[object]]::new()
        $err = $null
        try { Get-ProcConnection | ForEach-Object { $got.Add($_) } } catch { $err = $_ }
        $got.Count | Should -Be 1
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnEngine,Get-ProcConnection'
        $err.Exception.Message | Should -Be 'Cannot read the socket table: permission denied'
        $err.CategoryInfo.Category | Should -Be 'NotSpecified'
    }

    It 'a command line the engine refuses (exit 2) is an InvalidArgument error' {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-usage') -ExitCode 2 `
            -Stderr 'procconn: unknown option ''--local'': run procconn --help for the options'
        $err = $null
        try { Get-ProcConnection -LocalAddress ::1 } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Be "unknown option '--local': run procconn --help for the options"
    }

    It 'output that is not JSON records is an engine fault (InvalidResult), not a bad argument' {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-text') -Stdout (New-TestRecordLine), 'procconn 9.9.9 table output', (New-TestRecordLine)
        $err = $null
        try { Get-ProcConnection } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnEngine,Get-ProcConnection'
        $err.CategoryInfo.Category | Should -Be 'InvalidResult'
        $err.Exception.Message | Should -BeLike 'The procconn engine wrote a line that is not a JSON record: procconn 9.9.9 table output (*same release*'
        # Valid JSON that is not a record is no better.
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-number') -Stdout '42'
        $err = $null
        try { Get-ProcConnection } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidResult'
        $err.Exception.Message | Should -BeLike 'The procconn engine wrote a line that is not a JSON record: 42 *'
    }

    It 'an engine whose records lack a field says which, rather than failing on a property' {
        $record = New-TestRecordLine | ConvertFrom-Json -AsHashtable
        $record.Remove('services')
        $record.Remove('remoteHostName')
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-old') -Stdout ($record | ConvertTo-Json -Compress)
        $err = $null
        try { Get-ProcConnection } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnEngine,Get-ProcConnection'
        $err.CategoryInfo.Category | Should -Be 'InvalidResult'
        $err.Exception.Message | Should -BeLike "The procconn engine's output lacks the fields 'remoteHostName', 'services' (*same release)"
    }

    It 'an error raised downstream passes through unchanged, and the engine is stopped' {
        $engine = New-StandInEngine -Path (Join-Path $dir 'stand-in-downstream') -Stdout (New-TestRecordLine) -Sleep 60
        $env:PROCCONN_EXE = $engine
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $err = $null
        try { Get-ProcConnection | ForEach-Object { throw 'downstream problem' } } catch { $err = $_ }
        $watch.Stop()
        $err.FullyQualifiedErrorId | Should -Be 'downstream problem'
        $err.Exception | Should -BeOfType [System.Management.Automation.RuntimeException]
        $err.InvocationInfo.Line | Should -BeLike "*ForEach-Object { throw 'downstream problem' }*"
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        $enginePid = [int](Get-Content "$engine.pid")
        Start-Sleep -Milliseconds 200
        Get-Process -Id $enginePid -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'Stop-Job stops a job waiting on a silent engine at once, and the engine with it' {
        $engine = New-StandInEngine -Path (Join-Path $dir 'stand-in-silent-long') -Sleep 60
        $job = Start-ThreadJob -ScriptBlock {
            param($manifest, $engine)
            Import-Module $manifest
            $env:PROCCONN_EXE = $engine
            Get-ProcConnection
        } -ArgumentList $manifest, $engine
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(20)
            while (-not (Test-Path -LiteralPath "$engine.pid") -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 50
            }
            Test-Path -LiteralPath "$engine.pid" | Should -BeTrue -Because 'the job started the engine'
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            Stop-Job -Job $job
            $watch.Stop()
            # Waiting for the engine in one blocking call would hold Stop-Job for the whole minute.
            $watch.Elapsed.TotalSeconds | Should -BeLessThan 20
            $enginePid = [int](Get-Content "$engine.pid")
            Start-Sleep -Milliseconds 200
            Get-Process -Id $enginePid -ErrorAction Ignore | Should -BeNullOrEmpty
        } finally {
            Remove-Job -Job $job -Force
        }
    }

    It 'ids too many for the command line go on the engine''s standard input: one run, one warning' {
        $engine = New-StandInEngine -Path (Join-Path $dir 'stand-in-stdin') -Stdout (New-TestRecordLine) -ReadStdin `
            -Stderr 'procconn: no process runs with pids 7, 77'
        $env:PROCCONN_EXE = $engine
        InModuleScope ProcConn { $script:ProcConnPidListLength = 5 }
        try {
            $rows = @(Get-ProcConnection -OwningProcess 777, 7, 77 -WarningVariable warnings -WarningAction SilentlyContinue)
        } finally {
            InModuleScope ProcConn { $script:ProcConnPidListLength = 16000 }
        }
        $rows.Count | Should -Be 1 -Because 'one run wrote one record'
        @($warnings).ForEach({ "$_" }) | Should -Be 'no process runs with pids 7, 77'
        $arguments = @(Get-Content "$engine.args")
        $arguments | Should -Contain '--pid-file=-'
        @($arguments | Where-Object { $_ -like '--pid=*' }) | Should -BeNullOrEmpty
        # In ascending order, as the command line would have them.
        Get-Content -Raw "$engine.stdin" | Should -BeExactly '7,77,777'
    }

    It 'ids that fit stay on the command line, and the engine''s standard input is empty' {
        $engine = New-StandInEngine -Path (Join-Path $dir 'stand-in-args') -Stdout (New-TestRecordLine) -ReadStdin
        $env:PROCCONN_EXE = $engine
        $null = Get-ProcConnection -OwningProcess 99, 9
        $arguments = @(Get-Content "$engine.args")
        $arguments | Should -Contain '--pid=9,99'
        $arguments | Should -Not -Contain '--pid-file=-'
        (Get-Item "$engine.stdin").Length | Should -Be 0
    }

    It 'an engine that stops without reading its standard input is not waited for' {
        # 60,000 ids are more than a pipe holds: the write would block if nothing ended it.
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-no-stdin') -ExitCode 2 `
            -Stderr "procconn: Invalid pid ""x"" on line 1 of standard input (--pid-file -): expected whole numbers"
        $err = $null
        try { Get-ProcConnection -OwningProcess (1..60000) } catch { $err = $_ }
        $err.Exception | Should -BeOfType [System.ArgumentException]
        $err.Exception.Message | Should -BeLike 'Invalid pid "x" on line 1 of standard input*'
    }

    It 'an engine failure naming a refused permission (<Code>) is PermissionDenied' -ForEach @(
        @{ Code = 'EACCES' }, @{ Code = 'EPERM' }
    ) {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir "stand-in-refused-$Code") -ExitCode 1 `
            -Stderr "procconn: cannot read the socket table ($Code)"
        $err = $null
        try { Get-ProcConnection } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnEngine,Get-ProcConnection'
        $err.Exception.Message | Should -Be "cannot read the socket table ($Code)"
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
    }

    It 'an engine that exits non-zero without a message still fails, saying so' {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-silent') -ExitCode 3
        { Get-ProcConnection } | Should -Throw -ExpectedMessage 'procconn exited with code 3 and no message'
    }

    It 'what the engine could not read becomes a warning, and the rows still come' {
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-warns') -Stdout (New-TestRecordLine), (New-TestRecordLine -LocalPort 4343) `
            -Stderr 'procconn: 3 processes could not be fully read (access denied): run elevated for paths, command lines and users'
        $rows = @(Get-ProcConnection -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows.LocalPort | Should -Be @(4242, 4343)
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Be '3 processes could not be fully read (access denied): run elevated for paths, command lines and users'
    }

    It 'an engine that cannot be started is a clear error' {
        $notExecutable = Join-Path $dir 'stand-in-not-executable'
        Set-Content -LiteralPath $notExecutable -Value 'not a program'
        $env:PROCCONN_EXE = $notExecutable
        { Get-ProcConnection } | Should -Throw -ExpectedMessage "The procconn engine '$notExecutable' could not be started: *"
    }

    It 'lines come in batches of at most 100, in order, and every record becomes an object' {
        $records = foreach ($port in 1..250) { New-TestRecordLine -LocalPort $port }
        $env:PROCCONN_EXE = New-StandInEngine -Path (Join-Path $dir 'stand-in-many') -Stdout $records
        $batches = @(InModuleScope ProcConn {
                function Get-TestCmdlet { [CmdletBinding()] param() $PSCmdlet }
                Invoke-ProcConnEngine -ArgumentList '--format', 'ndjson' -Cmdlet (Get-TestCmdlet) | ForEach-Object { , $_ }
            })
        $batches.Count | Should -BeGreaterOrEqual 3
        foreach ($batch in $batches) {
            , $batch | Should -BeOfType [string[]]
            $batch.Count | Should -BeLessOrEqual 100
        }
        ($batches | ForEach-Object { $_ }) | Should -Be $records
        (Get-ProcConnection).LocalPort | Should -Be (1..250)
    }

    It 'objects stream out as the engine writes them; stopping early stops the engine' {
        $engine = New-StandInEngine -Path (Join-Path $dir 'stand-in-slow') -Stdout (New-TestRecordLine) -Sleep 60
        $env:PROCCONN_EXE = $engine
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $first = @(Get-ProcConnection | Select-Object -First 1)
        $watch.Stop()
        $first.Count | Should -Be 1
        # The engine is still sleeping when the first object arrives: had the module waited for it
        # to end, this would take a minute.
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        $enginePid = [int](Get-Content "$engine.pid")
        Start-Sleep -Milliseconds 200
        Get-Process -Id $enginePid -ErrorAction Ignore | Should -BeNullOrEmpty
    }
}
