# Get-ProcConnection against the real engine (the checkout, run with its Deno) and real sockets:
# a listener and a connection held by this PowerShell process, and a child process holding
# TCP v4/v6 and UDP endpoints.
BeforeAll {
    . (Join-Path $PSScriptRoot '_helpers.ps1')
    Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
    Import-Module $ModuleManifest -Force

    $listener = Start-TestListener
    $port = $listener.LocalEndpoint.Port
    $client = [System.Net.Sockets.TcpClient]::new()
    $client.Connect([ipaddress]::Loopback, $port)
    $accepted = $listener.AcceptTcpClient()
    $clientPort = $client.Client.LocalEndPoint.Port
    $me = Get-Process -Id $PID

    $child = Start-SocketChild
    $sockets = $child.Sockets
}
AfterAll {
    Stop-SocketChild $child
    foreach ($s in $accepted, $client) { if ($s) { $s.Dispose() } }
    Remove-TestState -Listener $listener
}

Describe 'Get-ProcConnection on real sockets' {
    It 'finds the listener this test opened by -LocalPort, owned by this process' {
        $rows = @(Get-ProcConnection -LocalPort $port -State Listen)
        $rows.Count | Should -Be 1
        $r = $rows[0]
        $r.PSObject.TypeNames[0] | Should -Be 'ProcConn.Connection'
        $r.Protocol | Should -Be 'TCP'
        $r.AddressFamily | Should -Be 'IPv4'
        $r.LocalAddress | Should -Be '127.0.0.1'
        $r.LocalPort | Should -BeOfType [int]
        $r.LocalPort | Should -Be $port
        $r.State | Should -BeOfType [string]
        $r.State | Should -Be 'LISTEN'
        $null -eq $r.RemoteAddress | Should -BeTrue
        $r.OwningProcess | Should -Be $PID
        $r.ProcessName | Should -Be $me.ProcessName
        $r.ProcessPath | Should -Be $me.Path
        $r.ParentProcessId | Should -Be $me.Parent.Id
        $r.ProcessStartTime | Should -BeOfType [datetime]
        [math]::Abs(($r.ProcessStartTime - $me.StartTime).TotalSeconds) | Should -BeLessThan 1.5
        $r.UserName | Should -Be ([Environment]::UserName)
    }

    It 'Where-Object State -eq ESTABLISHED keeps both ends of the connection' {
        $rows = @(Get-ProcConnection -OwningProcess $PID | Where-Object State -eq ESTABLISHED |
                Where-Object { $_.LocalPort -eq $port -or $_.LocalPort -eq $clientPort })
        @($rows | ForEach-Object { "$($_.LocalPort)>$($_.RemotePort)" } | Sort-Object) |
            Should -Be @("$port>$clientPort", "$clientPort>$port" | Sort-Object)
        $rows.RemotePort | Should -BeOfType [int]
    }

    It '-State takes Get-NetTCPConnection''s spelling: Established' {
        $rows = @(Get-ProcConnection -State Established -LocalPort $clientPort -OwningProcess $PID)
        $rows.Count | Should -Be 1
        $rows[0].RemotePort | Should -Be $port
    }

    It 'Get-Process | Get-ProcConnection lists the endpoints of the piped process' {
        $rows = @(Get-Process -Id $sockets.pid | Get-ProcConnection)
        $rows.OwningProcess | Sort-Object -Unique | Should -Be $sockets.pid
        $rows.Where({ $_.Protocol -eq 'TCP' -and $_.LocalPort -eq $sockets.tcp4.listenPort -and $_.State -eq 'LISTEN' }).Count | Should -Be 1
        $rows.Where({ $_.Protocol -eq 'UDP' -and $_.LocalPort -eq $sockets.udp4.port }).Count | Should -Be 1
        $rows[0].ProcessName | Should -Be (Get-Process -Id $sockets.pid).ProcessName
    }

    It 'several piped processes are listed together' {
        $rows = @(Get-Process -Id $PID, $sockets.pid | Get-ProcConnection -Protocol TCP -State Listen)
        $rows.OwningProcess | Sort-Object -Unique | Should -Be @($PID, $sockets.pid | Sort-Object)
    }

    It 'a pipeline that yields no process lists nothing, not everything' {
        @(Get-Process -Name 'no-such-process-procconn' -ErrorAction Ignore | Get-ProcConnection).Count | Should -Be 0
    }

    It 'a process id that runs no more, or a name that matches nothing, is a warning and lists nothing' {
        $exited = [System.Diagnostics.Process]::Start('/bin/true')
        $exited.WaitForExit()
        $rows = @(Get-ProcConnection -OwningProcess $exited.Id -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows.Count | Should -Be 0
        @($warnings).ForEach({ "$_" }) | Should -Be "no process runs with pid $($exited.Id)"
        # A listing of every process (as -ProcessName is) also names other network namespaces that
        # hold sockets, when this machine has any: not what this test looks at.
        $rows = @(Get-ProcConnection -ProcessName 'no-such-process-procconn*' -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows.Count | Should -Be 0
        @($warnings).ForEach({ "$_" }) | Where-Object { $_ -notmatch 'network namespace' } |
            Should -Be 'no process matches -ProcessName "no-such-process-procconn*"'
        # A running process without the selected endpoints: nothing to warn about.
        @(Get-ProcConnection -OwningProcess $sockets.pid -LocalPort 1 -WarningVariable warnings).Count | Should -Be 0
        @($warnings).Count | Should -Be 0
    }

    It '-ProcessName takes wildcards' {
        $name = (Get-Process -Id $sockets.pid).ProcessName
        $pattern = $name.Substring(0, $name.Length - 1) + '?'
        $rows = @(Get-ProcConnection -ProcessName $pattern.ToUpperInvariant() -LocalPort $sockets.tcp4.listenPort -State Listen)
        $rows.OwningProcess | Should -Be $sockets.pid
    }

    It 'a -ProcessName that starts with - reaches the engine as a name (login shells are -bash)' {
        $rows = @(Get-ProcConnection -ProcessName '-no-such-process', $((Get-Process -Id $sockets.pid).ProcessName) -LocalPort $sockets.tcp4.listenPort -State Listen)
        $rows.OwningProcess | Should -Be $sockets.pid
        @(Get-ProcConnection -ProcessName '-no-such-process' -WarningVariable warnings -WarningAction SilentlyContinue).Count | Should -Be 0
        @($warnings).ForEach({ "$_" }) | Where-Object { $_ -notmatch 'network namespace' } |
            Should -Be 'no process matches -ProcessName "-no-such-process"'
    }

    It '-State with -Protocol UDP alone is refused, naming the parameters' {
        $err = $null
        try { Get-ProcConnection -Protocol UDP -State Listen, Established } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Be ('-State LISTEN,ESTABLISHED selects TCP endpoints and -Protocol UDP ' +
            'leaves none: UDP endpoints have no state (-Listening takes in UDP servers)')
    }

    It '-Protocol UDP: no state and no remote end' {
        $rows = @(Get-ProcConnection -Protocol UDP -LocalPort $sockets.udp4.port)
        $rows.Count | Should -Be 1
        $null -eq $rows[0].State | Should -BeTrue
        $null -eq $rows[0].RemotePort | Should -BeTrue
        $rows[0].OwningProcess | Should -Be $sockets.pid
    }

    It '-AddressFamily IPv6 -LocalAddress ::1 finds the child''s IPv6 listener' {
        if ($null -eq $sockets.tcp6) { Set-ItResult -Skipped -Because 'this host has no IPv6 loopback'; return }
        $rows = @(Get-ProcConnection -AddressFamily IPv6 -LocalAddress ::1 -LocalPort $sockets.tcp6.listenPort -State Listen)
        $rows.Count | Should -Be 1
        $rows[0].AddressFamily | Should -Be 'IPv6'
        $rows[0].LocalAddress | Should -Be '::1'
        $rows[0].OwningProcess | Should -Be $sockets.pid
        @(Get-ProcConnection -AddressFamily IPv4 -LocalPort $sockets.tcp6.listenPort -State Listen).Count | Should -Be 0
    }

    It '-LocalAddress takes an IPv6 address in brackets, as the default table writes it' {
        if ($null -eq $sockets.tcp6) { Set-ItResult -Skipped -Because 'this host has no IPv6 loopback'; return }
        $rows = @(Get-ProcConnection -LocalAddress '[::1]' -LocalPort $sockets.tcp6.listenPort -State Listen)
        $rows.OwningProcess | Should -Be $sockets.pid
        $rows = @(Get-ProcConnection -LocalAddress '[::1]/128' -RemoteAddress '[::1]' -RemotePort $sockets.tcp6.listenPort)
        $rows.LocalPort | Should -Be $sockets.tcp6.clientPort
    }

    It '-OwningProcess 0 selects pid 0 (Windows'' System Idle Process), not every process' {
        # Linux has no process 0: the engine says so, and lists nothing.
        $rows = @(Get-ProcConnection -OwningProcess 0 -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows.Count | Should -Be 0
        @($warnings).ForEach({ "$_" }) | Should -Be 'no process runs with pid 0'
        $rows = @([pscustomobject]@{ Id = 0 } | Get-ProcConnection -IncludeChildProcess -WarningVariable warnings -WarningAction SilentlyContinue)
        $rows.Count | Should -Be 0
        @($warnings).ForEach({ "$_" }) | Should -Be 'no process runs with pid 0'
    }

    It 'strings that look like dates stay strings (a process named /Date(0)/)' {
        # Two processes holding a connection to this test's listener: bash named /Date(0)/, and
        # cat whose whole command line is an ISO 8601 time.
        $named = Start-TestShell -Script 'printf %s "$1" > /proc/$$/comm && exec 3<>"/dev/tcp/127.0.0.1/$2" && read -r _' -Arguments '/Date(0)/', $port
        $dated = Start-TestShell -Script 'exec 3<>"/dev/tcp/127.0.0.1/$1" && exec -a 2026-01-02T03:04:05 cat' -Arguments $port
        $ends = @($listener.AcceptTcpClient(), $listener.AcceptTcpClient())
        try {
            Wait-TestProcessName -Id $named.Id -Name '/Date(0)/'
            Wait-TestProcessName -Id $dated.Id -Name 'cat'
            $rows = @(Get-ProcConnection -OwningProcess $named.Id, $dated.Id -RemotePort $port)
            $rows.Count | Should -Be 2
            $byPid = @{}
            foreach ($r in $rows) { $byPid[[int]$r.OwningProcess] = $r }
            $byPid[$named.Id].ProcessName | Should -BeOfType [string]
            $byPid[$named.Id].ProcessName | Should -BeExactly '/Date(0)/'
            @($rows | Where-Object ProcessName -eq '/Date(0)/').Count | Should -Be 1
            $byPid[$dated.Id].CommandLine | Should -BeOfType [string]
            $byPid[$dated.Id].CommandLine | Should -BeExactly '2026-01-02T03:04:05'
            $byPid[$dated.Id].ProcessStartTime | Should -BeOfType [datetime]
        } finally {
            foreach ($e in $ends) { $e.Dispose() }
            Stop-TestShell $named
            Stop-TestShell $dated
        }
    }

    It 'a connected UDP socket has a remote end' {
        $udp = [System.Net.Sockets.UdpClient]::new([System.Net.IPEndPoint]::new([ipaddress]::Loopback, 0))
        try {
            $udp.Connect([ipaddress]::Loopback, $sockets.udp4.port)
            $rows = @(Get-ProcConnection -OwningProcess $PID -Protocol UDP -LocalPort $udp.Client.LocalEndPoint.Port)
            $rows.Count | Should -Be 1
            $rows[0].RemoteAddress | Should -Be '127.0.0.1'
            $rows[0].RemotePort | Should -Be $sockets.udp4.port
            $null -eq $rows[0].State | Should -BeTrue
        } finally {
            $udp.Dispose()
        }
    }

    It '-RemoteAddress with a block and -RemotePort find the client end' {
        $rows = @(Get-ProcConnection -RemoteAddress 127.0.0.0/8 -RemotePort $port)
        $rows.LocalPort | Should -Be $clientPort
        @(Get-ProcConnection -RemoteAddress 10.0.0.0/8 -RemotePort $port).Count | Should -Be 0
    }

    It '-IncludeChildProcess from this process reaches the child''s endpoints' {
        $rows = @(Get-Process -Id $PID | Get-ProcConnection -IncludeChildProcess -LocalPort $sockets.tcp4.listenPort -State Listen)
        $rows.OwningProcess | Should -Be $sockets.pid
        @(Get-ProcConnection -OwningProcess $PID -LocalPort $sockets.tcp4.listenPort).Count | Should -Be 0
    }

    It 'the default view is the PID, ProcessName, Proto, State, Local, Remote table, State kept on 80 columns' {
        foreach ($width in 80, 200) {
            $text = Get-ProcConnection -LocalPort $port | Out-String -Width $width
            $text | Should -Match 'PID\s+ProcessName\s+Proto\s+State\s+Local\s+Remote' -Because "$width columns"
            $text | Should -Match "$PID\s+\S+\s+TCP\s+LISTEN\s+127\.0\.0\.1:$port\s+\*:\*" -Because "$width columns"
            $text | Should -Match "ESTABLISHED\s+127\.0\.0\.1:$port\s+127\.0\.0\.1:$clientPort" -Because "$width columns"
        }
    }

    It 'survives an Export-Csv round trip' {
        $file = Join-Path ([System.IO.Path]::GetTempPath()) "procconn-$PID-roundtrip.csv"
        try {
            $rows = @(Get-ProcConnection -LocalPort $port -State Listen)
            $rows | Export-Csv -LiteralPath $file -NoTypeInformation
            $back = @(Import-Csv -LiteralPath $file)
            $back.Count | Should -Be 1
            [int]$back[0].LocalPort | Should -Be $port
            [int]$back[0].OwningProcess | Should -Be $PID
            $back[0].State | Should -Be 'LISTEN'
            $back[0].ProcessName | Should -Be $me.ProcessName
            $back[0].ProcessPath | Should -Be $me.Path
            [datetime]$back[0].ProcessStartTime | Should -Be ([datetime]$rows[0].ProcessStartTime.ToString())
            $back[0].Unavailable | Should -Be "$($rows[0].Unavailable)"
            $back[0].PSObject.Properties.Name | Should -Be $rows[0].PSObject.Properties.Name
        } finally {
            Remove-Item -LiteralPath $file -ErrorAction Ignore
        }
    }

    It 'an error raised downstream is the user''s own, not relabelled as the engine''s' {
        $err = $null
        try { Get-ProcConnection -OwningProcess $PID | ForEach-Object { throw 'downstream problem' } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -Be 'downstream problem'
        $err.Exception.Message | Should -Be 'downstream problem'
        $err.InvocationInfo.Line | Should -BeLike "*ForEach-Object { throw 'downstream problem' }*"
        $err = $null
        try { Get-ProcConnection -OwningProcess $PID | ForEach-Object { Write-Error 'mine' -ErrorId MyOwnError -ErrorAction Stop } } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'MyOwnError*'
    }

    It 'many piped processes are listed by one run of the engine, their ids on its standard input' {
        # 30,000 ids do not fit on one command line (Linux: one argument of at most 128 KiB).
        $ids = @(1..30000) + $PID + $sockets.pid
        $piped = Invoke-TestPipedIds -Ids $ids
        $piped.Runs.Count | Should -Be 1
        "$($piped.Runs[0])" | Should -BeLike '* --pid-file=-'
        # The ids no process has now are named in one warning, by the one run.
        @($piped.Warnings -like 'no process runs with pids *').Count | Should -Be 1
        $rows = $piped.Rows
        @($rows | Where-Object { $_.OwningProcess -eq $PID -and $_.LocalPort -eq $port }).Count | Should -Be 1
        @($rows | Where-Object { $_.OwningProcess -eq $sockets.pid -and $_.LocalPort -eq $sockets.tcp4.listenPort }).Count | Should -Be 1
        @($rows | Where-Object { $_.OwningProcess -notin $ids }).Count | Should -Be 0
    }

    It '-Listening keeps the TCP listeners and the UDP servers, and no connection' {
        $rows = @(Get-ProcConnection -OwningProcess $sockets.pid -Listening)
        $rows.Count | Should -BeGreaterThan 0
        @($rows | Where-Object { $_.Protocol -eq 'TCP' -and $_.LocalPort -eq $sockets.tcp4.listenPort }).Count | Should -Be 1
        @($rows | Where-Object { $_.Protocol -eq 'UDP' -and $_.LocalPort -eq $sockets.udp4.port }).Count | Should -Be 1
        @($rows | Where-Object { $null -ne $_.RemoteAddress -or ($_.Protocol -eq 'TCP' -and $_.State -ne 'LISTEN') }).Count | Should -Be 0
    }

    It '-Port finds both ends of a connection: the server''s local port and the client''s remote one' {
        $rows = @(Get-ProcConnection -OwningProcess $PID -Port $port -Protocol TCP)
        @($rows | ForEach-Object { "$($_.State):$($_.LocalPort)>$($_.RemotePort)" } | Sort-Object) |
            Should -Be @("LISTEN:$port>", "ESTABLISHED:$port>$clientPort", "ESTABLISHED:$clientPort>$port" | Sort-Object)
    }

    It 'takes the process from the pid column of a snapshot read back with Import-Csv' {
        $file = Join-Path ([System.IO.Path]::GetTempPath()) "procconn-$PID-snapshot.csv"
        try {
            Export-ProcConnectionSnapshot -Path $file
            $rows = @(Import-Csv -LiteralPath $file | Where-Object { $_.localPort -eq "$port" -and $_.state -eq 'LISTEN' } |
                    Get-ProcConnection -Protocol TCP -State Listen)
            @($rows | Where-Object LocalPort -eq $port).Count | Should -Be 1
            @($rows | Where-Object OwningProcess -ne $PID).Count | Should -Be 0
        } finally {
            Remove-Item -LiteralPath $file -ErrorAction Ignore
        }
    }

    It 'takes the process from a piped object''s ProcessId, as Win32_Process has it' {
        $rows = @([pscustomobject]@{ ProcessId = $PID } | Get-ProcConnection -Protocol TCP -State Listen)
        @($rows | Where-Object LocalPort -eq $port).Count | Should -Be 1
        @($rows | Where-Object OwningProcess -ne $PID).Count | Should -Be 0
    }

    It 'takes ids piped as such: numbers, and text such as the lines of a file' {
        foreach ($id in $PID, "$PID", " $PID ") {
            $rows = @($id | Get-ProcConnection -Protocol TCP -State Listen)
            @($rows | Where-Object LocalPort -eq $port).Count | Should -Be 1 -Because "piped: '$id'"
            @($rows | Where-Object OwningProcess -ne $PID).Count | Should -Be 0
        }
    }

    It 'an object with several ids takes OwningProcess, then ProcessId, then Id (an event record''s Id is the event''s)' {
        $rows = @([pscustomobject]@{ Id = 4624; ProcessId = $PID } | Get-ProcConnection -Protocol TCP -State Listen)
        @($rows | Where-Object LocalPort -eq $port).Count | Should -Be 1
        @($rows | Where-Object OwningProcess -ne $PID).Count | Should -Be 0
    }

    It 'an input object with no id, or a bad one, is an error naming that object; the others go on' {
        $noId = [pscustomobject]@{ Name = 'no id here' }
        $badId = [pscustomobject]@{ Name = 'bad'; OwningProcess = 'x1' }
        # An object with an id first: PowerShell keeps the parameter it bound, set to $null, for
        # the objects after it, which must still be told apart (no id property, or an id as such).
        $rows = @([pscustomobject]@{ ProcessId = $PID }, $noId, $badId, $PID |
                Get-ProcConnection -Protocol TCP -State Listen -ErrorVariable errs -ErrorAction SilentlyContinue)
        @($rows | Where-Object LocalPort -eq $port).Count | Should -Be 1
        $errs.Count | Should -Be 2
        $errs[0].FullyQualifiedErrorId | Should -Be 'ProcConnNoProcessId,Get-ProcConnection'
        $errs[0].Exception.Message | Should -BeLike 'The input object (System.Management.Automation.PSCustomObject) has no process id*'
        $errs[0].TargetObject | Should -Be $noId
        $errs[1].FullyQualifiedErrorId | Should -Be 'ProcConnBadProcessId,Get-ProcConnection'
        $errs[1].TargetObject | Should -Be $badId
    }

    It 'refuses ids from both the pipeline and -OwningProcess, and -InputObject by name (<Name>)' -ForEach @(
        @{ Name = 'processes and -OwningProcess'; Run = { Get-Process -Id $PID | Get-ProcConnection -OwningProcess 1 }; Pattern = '*from the pipeline or from -OwningProcess, not both*' }
        @{ Name = 'ids and -OwningProcess'; Run = { $PID | Get-ProcConnection -OwningProcess 1 }; Pattern = '*from the pipeline or from -OwningProcess, not both*' }
        @{ Name = '-InputObject'; Run = { Get-ProcConnection -InputObject (Get-Process -Id $PID) }; Pattern = '-InputObject takes pipeline input only*' }
    ) {
        $err = $null
        $rows = @(try { & $Run } catch { $err = $_ })
        $rows.Count | Should -Be 0 -Because 'nothing is listed'
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnProcessIdSource,Get-ProcConnection'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike $Pattern
    }

    It 'a row piped to Stop-Process binds -Id, its owner, not -Name (every process of that name)' {
        $row = @(Get-ProcConnection -LocalPort $port -State Listen)
        $row.Count | Should -Be 1
        $row[0].Id | Should -BeOfType [int]
        $row[0].Id | Should -Be $PID
        # -WhatIf in another PowerShell, whose own name is this one's: bound by name, it would
        # name both processes.
        $run = Invoke-TestPwsh -Script "Import-Module '$ModuleManifest'; Get-ProcConnection -LocalPort $port -State Listen | Stop-Process -WhatIf"
        $run.ExitCode | Should -Be 0 -Because $run.Stderr
        $lines = @($run.Stdout -split '\r?\n' | Where-Object { $_ -like 'What if:*' })
        $lines | Should -Be @("What if: Performing the operation ""Stop-Process"" on target ""$($me.ProcessName) ($PID)"".")
    }

    It 'with -IncludeChildProcess and the ids on the engine''s standard input, a process is listed once' {
        # Both ids go on standard input: this process, and its child (the socket child), which is
        # also this process's descendant.
        InModuleScope ProcConn { $script:ProcConnPidListLength = 1 }
        try {
            $out = @(Get-ProcConnection -OwningProcess $PID, $sockets.pid -IncludeChildProcess -Protocol TCP -State Listen -Verbose 4>&1)
        } finally {
            InModuleScope ProcConn { $script:ProcConnPidListLength = 16000 }
        }
        $runs = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -like 'procconn engine*' })
        $runs.Count | Should -Be 1
        "$($runs[0])" | Should -BeLike '* --tree*--pid-file=-'

        $rows = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        @($rows | Where-Object { $_.OwningProcess -eq $sockets.pid -and $_.LocalPort -eq $sockets.tcp4.listenPort }).Count | Should -Be 1
        @($rows | Where-Object { $_.OwningProcess -eq $PID -and $_.LocalPort -eq $port }).Count | Should -Be 1
        $keys = $rows | ForEach-Object { "$($_.OwningProcess) $($_.LocalAddress) $($_.LocalPort)" }
        @($keys | Sort-Object -Unique).Count | Should -Be $keys.Count
    }

    It 'Select-Object -First 1 returns one object and leaves no engine running' {
        $before = @(Get-Process -Name deno -ErrorAction Ignore).Id
        $rows = @(Get-ProcConnection | Select-Object -First 1)
        $rows.Count | Should -Be 1
        Start-Sleep -Milliseconds 300
        $left = @(Get-Process -Name deno -ErrorAction Ignore | Where-Object { $_.Id -notin $before -and $_.Parent.Id -eq $PID })
        $left | Should -BeNullOrEmpty
    }
}
