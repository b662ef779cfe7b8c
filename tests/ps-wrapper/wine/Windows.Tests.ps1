# The ProcConn module as Windows code (PowerShell 7 under Wine): the Windows engine (deno.exe
# main.ts, found through the checkout and the PATH) against sockets of this PowerShell process.
BeforeAll {
    . (Join-Path $PSScriptRoot '../_helpers.ps1')
    Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
    Import-Module $ModuleManifest -Force
    $listener = Start-TestListener
    $port = $listener.LocalEndpoint.Port
    $me = Get-Process -Id $PID
}
AfterAll { Remove-TestState -Listener $listener }

Describe 'ProcConn on Windows' {
    It 'runs as Windows code' {
        $IsWindows | Should -BeTrue
        $me.Path | Should -Match '^[A-Z]:\\.*\\pwsh\.exe$'
    }

    It 'finds the listener of this process through the checkout''s engine (deno.exe)' {
        $out = @(Get-ProcConnection -LocalPort $port -Verbose 4>&1)
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        "$($verbose[0])" | Should -Match '^procconn engine \(checkout\): [A-Z]:\\.*\\deno\.exe run .*\\main\.ts --format ndjson'
        $rows = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $rows.Count | Should -Be 1
        $r = $rows[0]
        $r.PSObject.TypeNames[0] | Should -Be 'ProcConn.Connection'
        $r.State | Should -Be 'LISTEN'
        $r.LocalAddress | Should -Be '127.0.0.1'
        $r.OwningProcess | Should -Be $PID
        $r.ProcessName | Should -Be 'pwsh.exe'
        $r.ProcessPath | Should -Be $me.Path
        $r.ProcessStartTime | Should -BeOfType [datetime]
        $r.UserName | Should -Match '\\'
    }

    It 'keeps the Windows engine''s reasons for what Wine does not answer' {
        $r = Get-ProcConnection -LocalPort $port -State Listen
        $r.Unavailable.CreationTime | Should -Be 'not-supported'
        $r.Unavailable.Services | Should -Be 'not-supported'
        $null -eq $r.CreationTime | Should -BeTrue
    }

    It '-EnableStatistics asks first: -WhatIf only reads, -Confirm:$false switches on' {
        $engineLine = {
            param($out)
            "$(@($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -match '^procconn engine' })[0])"
        }
        $out = @(Get-ProcConnection -LocalPort $port -EnableStatistics -WhatIf -Verbose 4>&1)
        $line = & $engineLine $out
        $line | Should -Match ' --stats'
        $line | Should -Not -Match '--enable-stats'
        @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'ProcConn.Connection' }).Count | Should -Be 1

        $out = @(Get-ProcConnection -LocalPort $port -EnableStatistics -Confirm:$false -Verbose 4>&1)
        & $engineLine $out | Should -Match ' --enable-stats --yes'
        # ShouldProcess says what it does under -Verbose.
        "$out" | Should -Match 'Performing the operation "Switch the statistics on'
        # Wine implements no EStats: the reason says so (a listener has no counters anyway).
        $r = @($out | Where-Object { $_.PSObject.TypeNames[0] -eq 'ProcConn.Connection' })
        $r.Count | Should -Be 1
        $r[0].Unavailable.BytesIn | Should -Be 'not-applicable'
    }

    It '-EnableStatistics where no prompt can be shown: an error, and the engine is not run' {
        # This host has no user interface, as a remote or scheduled session: -Confirm cannot ask.
        $err = $null
        $out = @(try { Get-ProcConnection -LocalPort $port -EnableStatistics -Confirm -Verbose 4>&1 } catch { $err = $_ })
        $err.FullyQualifiedErrorId | Should -Be 'ProcConnCannotConfirm,Get-ProcConnection'
        $err.Exception.Message | Should -BeLike 'Cannot ask whether to switch the statistics on *Nothing was done; give -Confirm:$false*'
        @($out | Where-Object { "$_" -match '^procconn engine' }).Count | Should -Be 0
    }

    It 'Get-Process | Get-ProcConnection and -State Listen' {
        $rows = @(Get-Process -Id $PID | Get-ProcConnection -State Listen -Protocol TCP)
        $rows.LocalPort | Should -Contain $port
        $rows.OwningProcess | Sort-Object -Unique | Should -Be $PID
    }

    It 'a range of ports, and a list of ports merged into one, find the listener' {
        $rows = @(Get-ProcConnection -OwningProcess $PID -State Listen -LocalPort "$($port - 1)-$($port + 1)")
        $rows.LocalPort | Should -Be $port
        # 2,001 ports: as a list, 12,000 characters; merged, one short range.
        $first = [Math]::Max(0, $port - 1000)
        $last = [Math]::Min(65535, $port + 1000)
        $rows = @(Get-ProcConnection -OwningProcess $PID -State Listen -LocalPort ($first..$last) -Verbose 4>&1)
        "$($rows[0])" | Should -Match "--local-port=$first-$last( |$)"
        $rows[1].LocalPort | Should -Be $port
        $rows.Count | Should -Be 2
    }

    It 'ids too many for a command line reach deno.exe on its standard input, in one run' {
        # About 24,000 characters of ids: more than the module puts on a command line.
        $ids = @(1..5000) + $PID
        $piped = Invoke-TestPipedIds -Ids $ids
        $piped.Runs.Count | Should -Be 1
        "$($piped.Runs[0])" | Should -BeLike '*--pid-file=-'
        @($piped.Warnings -like 'no process runs with pids *').Count | Should -Be 1
        @($piped.Rows | Where-Object { $_.OwningProcess -eq $PID -and $_.LocalPort -eq $port }).Count | Should -Be 1
        @($piped.Rows | Where-Object { $_.OwningProcess -notin $ids }).Count | Should -Be 0
    }

    It 'Where-Object State -eq ESTABLISHED sees both ends of a connection' {
        $client = [System.Net.Sockets.TcpClient]::new()
        $client.Connect([ipaddress]::Loopback, $port)
        $accepted = $listener.AcceptTcpClient()
        try {
            $rows = @(Get-ProcConnection -OwningProcess $PID | Where-Object State -eq ESTABLISHED)
            $ports = $rows | ForEach-Object { "$($_.LocalPort)>$($_.RemotePort)" }
            $ports | Should -Contain "$port>$($client.Client.LocalEndPoint.Port)"
            $ports | Should -Contain "$($client.Client.LocalEndPoint.Port)>$port"
        } finally {
            $accepted.Dispose()
            $client.Dispose()
        }
    }

    It 'writes a snapshot to a Windows path' {
        $file = Join-Path ([System.IO.Path]::GetTempPath()) "procconn-$PID.csv"
        try {
            Export-ProcConnectionSnapshot -Path $file
            $rows = @(Import-Csv -LiteralPath $file | Where-Object { $_.localPort -eq "$port" -and $_.pid -eq "$PID" })
            $rows.Count | Should -Be 1
            $rows[0].processPath | Should -Be $me.Path
        } finally {
            Remove-Item -LiteralPath $file -ErrorAction Ignore
        }
    }

    It 'names procconn.exe when no engine is found' {
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) "procconn-module-$PID"
        Copy-Item -Recurse -LiteralPath $ModuleSource -Destination (Join-Path $dir 'ProcConn')
        $savedPath = $env:PATH
        try {
            $env:PATH = 'C:\windows\system32'
            Remove-Module ProcConn
            Import-Module (Join-Path $dir 'ProcConn/ProcConn.psd1') -Force
            { Get-ProcConnection } | Should -Throw -ExpectedMessage "*$(Join-Path $dir 'ProcConn\procconn.exe')*procconn.exe on the PATH*"
        } finally {
            $env:PATH = $savedPath
            Remove-Module ProcConn -ErrorAction Ignore
            Import-Module $ModuleManifest -Force
            Remove-Item -Recurse -Force -LiteralPath $dir -ErrorAction Ignore
        }
    }

    It 'Register-ProcConnectionSnapshotTask stops clearly without the ScheduledTasks module' {
        Get-Command Register-ScheduledTask -ErrorAction Ignore | Should -BeNullOrEmpty -Because 'Wine has no ScheduledTasks module'
        { Register-ProcConnectionSnapshotTask -Path C:\snap.csv -Interval 00:05:00 -Confirm:$false } |
            Should -Throw -ErrorId 'ProcConnNoScheduledTasks,Register-ProcConnectionSnapshotTask'
    }
}
