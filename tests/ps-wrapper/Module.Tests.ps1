# The module's surface: manifest, exports, help, parameter lists, validation, the record mapping.
BeforeAll {
    . (Join-Path $PSScriptRoot '_helpers.ps1')
    Import-Module $ModuleManifest -Force
}
AfterAll { Remove-Module ProcConn -ErrorAction Ignore }

Describe 'The ProcConn manifest' {
    It 'is valid and exports exactly the public commands, no wildcards' {
        $m = Test-ModuleManifest -Path $ModuleManifest
        $m.Name | Should -Be 'ProcConn'
        @($m.ExportedFunctions.Keys | Sort-Object) | Should -Be @(
            'Export-ProcConnectionSnapshot', 'Get-ProcConnection', 'Register-ProcConnectionSnapshotTask')
        $data = Import-PowerShellDataFile -Path $ModuleManifest
        foreach ($key in 'FunctionsToExport', 'CmdletsToExport', 'VariablesToExport', 'AliasesToExport') {
            $data[$key] | Should -Not -Contain '*' -Because "$key is explicit"
        }
    }

    It 'has one Public file per exported function and exports nothing from Private' {
        $public = Get-ChildItem (Join-Path $ModuleSource 'Public') -Filter *.ps1 | ForEach-Object BaseName | Sort-Object
        $public | Should -Be @((Get-Command -Module ProcConn).Name | Sort-Object)
        Get-Command -Module ProcConn -Name ConvertTo-ProcConnObject -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'has one function per file in Public and Private, named as the file' {
        foreach ($file in Get-ChildItem (Join-Path $ModuleSource 'Public'), (Join-Path $ModuleSource 'Private') -Filter *.ps1) {
            $ast = [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref]$null, [ref]$null)
            $functions = $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)
            @($functions.Name) | Should -Be @($file.BaseName) -Because $file.Name
        }
    }

    It 'loads the default view and the type extensions' {
        Get-FormatData -TypeName ProcConn.Connection | Should -Not -BeNullOrEmpty
        $labels = (Get-FormatData -TypeName ProcConn.Connection).FormatViewDefinition[0].Control.Headers.Label
        $labels | Should -Be @('PID', 'ProcessName', 'Protocol', 'Local', 'Remote', 'State')
        Get-TypeData -TypeName ProcConn.Unavailable | Should -Not -BeNullOrEmpty
    }

    It 'has the about_ProcConn help topic' {
        $topic = Get-Help about_ProcConn
        ($topic | Out-String) | Should -Match 'Get-ProcConnection'
    }
}

Describe 'Help on every command' -ForEach @(
    @{ Name = 'Get-ProcConnection' }
    @{ Name = 'Export-ProcConnectionSnapshot' }
    @{ Name = 'Register-ProcConnectionSnapshotTask' }
) {
    BeforeAll { $help = Get-Help $Name -Full }

    It '<Name> has a synopsis, a description and at least two examples' {
        $help.Synopsis | Should -Not -Match "^\s*$Name"
        ($help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($e in $help.Examples.Example) { ($e.Remarks | Out-String).Trim() | Should -Not -BeNullOrEmpty }
    }

    It '<Name> describes each of its parameters' {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $text = ($help.Parameters.Parameter | Where-Object Name -eq $p).Description | Out-String
            $text.Trim() | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description"
        }
    }
}

Describe 'Parameter lists (pinned)' {
    It '<Name> takes exactly <Expected>' -ForEach @(
        @{ Name = 'Get-ProcConnection'; Expected = 'AddressFamily, Confirm, EnableStatistics, IncludeChildProcess, IncludeImageHash, IncludeStatistics, LocalAddress, LocalPort, OwningProcess, ProcessName, Protocol, RemoteAddress, RemotePort, ResolveHostName, State, WhatIf' }
        @{ Name = 'Export-ProcConnectionSnapshot'; Expected = 'Append, Confirm, Format, PassThru, Path, WhatIf' }
        @{ Name = 'Register-ProcConnectionSnapshotTask'; Expected = 'Confirm, Force, Format, Interval, Path, TaskName, TaskPath, User, WhatIf' }
    ) {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        $actual = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
        $actual -join ', ' | Should -Be $Expected
    }

    It 'Get-ProcConnection keeps the types and pipeline binding of Get-NetTCPConnection' {
        $p = (Get-Command Get-ProcConnection).Parameters
        $p.LocalPort.ParameterType | Should -Be ([uint16[]])
        $p.RemotePort.ParameterType | Should -Be ([uint16[]])
        $p.OwningProcess.ParameterType | Should -Be ([uint32[]])
        $p.OwningProcess.Aliases | Should -Contain 'Id'
        $p.OwningProcess.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Contain $true
        $p.ProcessName.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipelineByPropertyName | Should -Not -Contain $true
        (Get-Command Get-ProcConnection).OutputType.Name | Should -Contain 'ProcConn.Connection'
    }

    It 'the commands that may change something support -WhatIf' {
        # Get-ProcConnection only with -EnableStatistics (Windows): see the validation tests.
        (Get-Command Get-ProcConnection).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Export-ProcConnectionSnapshot).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Register-ProcConnectionSnapshotTask).Parameters.Keys | Should -Contain 'Confirm'
    }
}

Describe 'Tab completion' {
    It '-State completes both spellings' {
        $line = 'Get-ProcConnection -State Ti'
        $done = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $done.CompletionMatches.CompletionText | Should -Be @('TIME_WAIT', 'TimeWait')
    }

    It '-ProcessName completes the names of running processes' {
        $name = (Get-Process -Id $PID).ProcessName
        $line = "Get-ProcConnection -ProcessName $($name.Substring(0, 2))"
        $done = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $done.CompletionMatches.CompletionText | Should -Contain $name
        $line = 'Get-ProcConnection -ProcessName no-such-process-procconn'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | Should -BeNullOrEmpty
    }
}

Describe 'Validation before the engine runs' {
    BeforeAll {
        $dir = New-TestFolder
        $engine = New-StandInEngine -Path (Join-Path $dir 'engine') -Stdout (New-TestRecordLine)
        $env:PROCCONN_EXE = $engine
        # A module copy outside the checkout: the stand-in is the only engine it can find.
        Remove-Module ProcConn
        Import-Module (Copy-TestModule -Destination $dir) -Force
    }
    AfterAll {
        Remove-Item Env:PROCCONN_EXE -ErrorAction Ignore
        Remove-Module ProcConn
        Import-Module $ModuleManifest -Force
        Remove-Item -Recurse -Force $dir
    }
    BeforeEach { Remove-Item "$engine.args" -ErrorAction Ignore }

    It 'refuses -<Name> <Value> with a parameter error and never starts the engine' -ForEach @(
        @{ Name = 'State'; Value = 'Sleeping'; Pattern = 'Sleeping' }
        @{ Name = 'LocalAddress'; Value = 'nowhere'; Pattern = "'nowhere' is not an IPv4 or IPv6 address" }
        @{ Name = 'RemoteAddress'; Value = '1.2.3'; Pattern = "'1.2.3' is not an IPv4 or IPv6 address" }
        @{ Name = 'RemoteAddress'; Value = '10.0.0.0/33'; Pattern = '10.0.0.0/33' }
        @{ Name = 'LocalPort'; Value = 70000; Pattern = '70000' }
        @{ Name = 'ProcessName'; Value = 'a,b'; Pattern = "'a,b' is not a process name pattern" }
        @{ Name = 'Protocol'; Value = 'SCTP'; Pattern = 'SCTP' }
        @{ Name = 'AddressFamily'; Value = 'IPv5'; Pattern = 'IPv5' }
    ) {
        $arguments = @{ $Name = $Value }
        { Get-ProcConnection @arguments } | Should -Throw -ExpectedMessage "*$Pattern*" -ErrorId 'ParameterArgument*Error,Get-ProcConnection'
        "$engine.args" | Should -Not -Exist
    }

    It 'refuses -IncludeChildProcess without processes to start from' {
        { Get-ProcConnection -IncludeChildProcess } | Should -Throw -ErrorId 'ProcConnChildWithoutParent,Get-ProcConnection'
        "$engine.args" | Should -Not -Exist
    }

    It 'accepts both spellings of a state, in any case, and passes the filters on' {
        $rows = @(Get-ProcConnection -State Established, timewait, LISTEN -LocalPort 80, 443 -RemoteAddress 10.0.0.0/8 -LocalAddress ::1 -OwningProcess 9, 7, 9 -ProcessName 'ng*x' -Protocol TCP -AddressFamily IPv6 -IncludeStatistics)
        $rows.Count | Should -Be 1
        $arguments = Get-Content "$engine.args"
        $arguments[0..1] | Should -Be @('--format', 'ndjson')
        $pairs = @{}
        foreach ($argument in $arguments[2..($arguments.Count - 1)]) {
            if ($argument -match '^(--(?:local|local-port|remote|state|pid|name))=(.*)$') { $pairs[$Matches[1]] = $Matches[2] }
        }
        $pairs['--state'] | Should -Be 'Established,timewait,LISTEN'
        $pairs['--local-port'] | Should -Be '80,443'
        $pairs['--remote'] | Should -Be '10.0.0.0/8'
        $pairs['--local'] | Should -Be '::1'
        $pairs['--pid'] | Should -Be '7,9'
        $pairs['--name'] | Should -Be 'ng*x'
        $arguments | Should -Contain '--tcp'
        $arguments | Should -Contain '-6'
        $arguments | Should -Contain '--stats'
        $arguments | Should -Not -Contain '--udp'
    }

    It '-WhatIf without -EnableStatistics lists as usual: nothing else would change anything' {
        @(Get-ProcConnection -WhatIf -IncludeStatistics).Count | Should -Be 1
        Get-Content "$engine.args" | Should -Not -Contain '--enable-stats'
    }

    It '-EnableStatistics off Windows: nothing to switch on, so nothing is asked' {
        # Linux keeps every connection's counters; the engine is told not to ask either.
        Get-ProcConnection -EnableStatistics | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--enable-stats'
        $arguments | Should -Contain '--yes'
        $arguments | Should -Not -Contain '--stats'
    }

    It 'passes neither --tcp nor --udp when both protocols are asked for' {
        Get-ProcConnection -Protocol TCP, UDP -AddressFamily IPv4, IPv6 | Out-Null
        $arguments = Get-Content "$engine.args"
        foreach ($flag in '--tcp', '--udp', '-4', '-6') { $arguments | Should -Not -Contain $flag }
    }
}

Describe 'The record mapping' {
    It 'types numbers and times, keeps nulls null and names the reasons by property' {
        InModuleScope ProcConn {
            $line = '{"protocol":"TCP","family":"IPv6","localAddress":"fe80::1%3","localPort":22,' +
            '"remoteAddress":"fe80::2%3","remotePort":50123,"state":"ESTABLISHED","pid":4242,' +
            '"processName":"sshd","processPath":null,"parentPid":1,"processStartTime":"2026-11-22T01:02:03.500Z",' +
            '"commandLine":null,"userName":"root","sessionId":null,"services":["ssh.service","x.service"],' +
            '"imageSha256":null,"connectionCreated":null,"bytesIn":5001,"bytesOut":12345678901234,' +
            '"segmentsIn":3,"segmentsOut":4,"remoteHostName":null,' +
            '"unavailable":{"processPath":"access-denied","commandLine":"access-denied"}}'
            $o = ConvertTo-ProcConnObject -Line $line
            $o.PSObject.TypeNames[0] | Should -Be 'ProcConn.Connection'
            $o.LocalAddress | Should -Be 'fe80::1%3'
            $o.LocalPort | Should -BeOfType [int]
            $o.RemotePort | Should -Be 50123
            $o.State | Should -BeOfType [string]
            $o.OwningProcess | Should -BeOfType [uint32]
            $o.OwningProcess | Should -Be 4242
            $o.ProcessPath | Should -BeNullOrEmpty
            $null -eq $o.ProcessPath | Should -BeTrue -Because 'a missing string stays null, not empty'
            $o.ProcessStartTime | Should -BeOfType [datetime]
            $o.ProcessStartTime.Kind | Should -Be 'Local'
            $o.ProcessStartTime.ToUniversalTime().ToString('o') | Should -Be '2026-11-22T01:02:03.5000000Z'
            $o.BytesOut | Should -BeOfType [uint64]
            $o.BytesOut | Should -Be 12345678901234
            $o.Services | Should -Be @('ssh.service', 'x.service')
            , $o.Services | Should -BeOfType [string[]]
            $o.Services | Should -Contain 'x.service'
            $o.Unavailable.ProcessPath | Should -Be 'access-denied'
            $o.Unavailable.CommandLine | Should -Be 'access-denied'
            "$($o.Unavailable)" | Should -Be 'ProcessPath=access-denied;CommandLine=access-denied'
            $csv = $o | ConvertTo-Csv | ConvertFrom-Csv
            $csv.Unavailable | Should -Be 'ProcessPath=access-denied;CommandLine=access-denied'
            $csv.Services | Should -Be 'ssh.service;x.service'
        }
    }

    It 'gives a UDP endpoint no state and no remote end' {
        InModuleScope ProcConn -Parameters @{ Record = (New-TestRecordLine) } {
            param($Record)
            $line = $Record -replace '"protocol":"TCP"', '"protocol":"UDP"' -replace '"state":"LISTEN"', '"state":null'
            $o = ConvertTo-ProcConnObject -Line $line
            $null -eq $o.State | Should -BeTrue
            $null -eq $o.RemoteAddress | Should -BeTrue
            $null -eq $o.RemotePort | Should -BeTrue
            $o.Unavailable.CreationTime | Should -Be 'not-supported'
        }
    }
}

Describe 'Scheduled-task command lines' {
    It 'quotes arguments with spaces and refuses what it cannot quote' {
        InModuleScope ProcConn {
            Join-ProcConnCommandLine -ArgumentList 'snapshot', '--out', 'C:\Incident Logs\conns.csv', '--append' |
                Should -Be 'snapshot --out "C:\Incident Logs\conns.csv" --append'
            { Join-ProcConnCommandLine -ArgumentList 'a"b' } | Should -Throw -ExpectedMessage '*double quote*'
            { Join-ProcConnCommandLine -ArgumentList 'C:\my dir\' } | Should -Throw -ExpectedMessage '*backslash*'
        }
    }
}
