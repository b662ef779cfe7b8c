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

    It 'loads every command from a folder whose name has wildcard characters' {
        $folder = Join-Path $TestDrive 'IR kit [v2]'
        $null = New-Item -ItemType Directory -Path ([WildcardPattern]::Escape($folder))
        $manifest = Copy-TestModule -Destination $folder
        $r = Invoke-TestPwsh -Script "Import-Module -Name '$([WildcardPattern]::Escape($manifest))'; (Get-Command -Module ProcConn).Count"
        $r.Stderr | Should -BeNullOrEmpty
        $r.Stdout.Trim() | Should -Be '3'
    }

    It 'loads the default view and the type extensions' {
        Get-FormatData -TypeName ProcConn.Connection | Should -Not -BeNullOrEmpty
        $labels = (Get-FormatData -TypeName ProcConn.Connection).FormatViewDefinition[0].Control.Headers.Label
        $labels | Should -Be @('PID', 'ProcessName', 'Proto', 'State', 'Local', 'Remote')
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

    It '<Name> links only to help topics, each a name alone (a comment after the help block would join them)' {
        foreach ($link in @($help.relatedLinks.navigationLink)) {
            $link.linkText | Should -Match '\A(about_ProcConn|[A-Z][a-z]+-[A-Za-z]+)\z'
        }
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
        # InputObject takes the pipeline object itself (ids piped as such); it is hidden (DontShow).
        @{ Name = 'Get-ProcConnection'; Expected = 'AddressFamily, Confirm, EnableStatistics, IncludeChildProcess, IncludeImageHash, IncludeStatistics, InputObject, Listening, LocalAddress, LocalPort, OwningProcess, Port, ProcessName, Protocol, RemoteAddress, RemotePort, ResolveHostName, State, WhatIf' }
        @{ Name = 'Export-ProcConnectionSnapshot'; Expected = 'Append, Confirm, Format, PassThru, Path, WhatIf' }
        @{ Name = 'Register-ProcConnectionSnapshotTask'; Expected = 'Confirm, Force, Format, Interval, Path, TaskName, TaskPath, User, WhatIf' }
    ) {
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters
        $actual = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
        $actual -join ', ' | Should -Be $Expected
    }

    It '<Name> takes <Expected> by position, the rest by name' -ForEach @(
        @{ Name = 'Get-ProcConnection'; Expected = 'LocalAddress, LocalPort' }
        @{ Name = 'Export-ProcConnectionSnapshot'; Expected = 'Path' }
        @{ Name = 'Register-ProcConnectionSnapshotTask'; Expected = 'Path' }
    ) {
        $positional = (Get-Command $Name).ParameterSets[0].Parameters | Where-Object Position -ge 0 | Sort-Object Position
        $positional.Name -join ', ' | Should -Be $Expected
    }

    It 'Get-ProcConnection keeps the pipeline binding of Get-NetTCPConnection' {
        $p = (Get-Command Get-ProcConnection).Parameters
        # Ports and ids are text checked as whole numbers (the validation tests): as [uint16[]] and
        # [uint32[]], as Get-NetTCPConnection has them, '' would become port or pid 0.
        $p.LocalPort.ParameterType | Should -Be ([string[]])
        $p.RemotePort.ParameterType | Should -Be ([string[]])
        $p.OwningProcess.ParameterType | Should -Be ([string[]])
        $p.OwningProcess.Aliases | Should -Contain 'Id'
        $p.OwningProcess.Aliases | Should -Contain 'Pid'
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

    It '-ProcessName completes a name that PowerShell would read as code in quotes, and leaves out names it refuses' {
        $prefix = 'pc' + [guid]::NewGuid().ToString('N').Substring(0, 4)
        $names = "$prefix (x)", "$prefix=c|calc", "$prefix it's", "$prefix`$(id)", "$prefix,comma", "$prefix[br]", "${prefix}plain"
        $shells = foreach ($n in $names) { Start-TestShell -Script 'printf %s "$1" > /proc/$$/comm && read -r _' -Arguments $n }
        try {
            for ($i = 0; $i -lt $names.Count; $i++) { Wait-TestProcessName -Id $shells[$i].Id -Name $names[$i] }
            foreach ($typed in $prefix, "'$prefix") {
                $line = "Get-ProcConnection -ProcessName $typed"
                $done = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $done.CompletionMatches.ListItemText | Should -Be @("$prefix (x)", "$prefix it's", "$prefix=c|calc", "$prefix`$(id)", "${prefix}plain" | Sort-Object)
                foreach ($m in $done.CompletionMatches) {
                    # What is inserted reads back as the one name, not as a pipeline or subexpression.
                    $ast = [System.Management.Automation.Language.Parser]::ParseInput("Get-ProcConnection -ProcessName $($m.CompletionText)", [ref]$null, [ref]$null)
                    $commands = $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)
                    @($commands).Count | Should -Be 1 -Because $m.CompletionText
                    $commands[0].CommandElements[2].SafeGetValue() | Should -BeExactly $m.ListItemText
                }
                ($done.CompletionMatches | Where-Object ListItemText -eq "${prefix}plain").CompletionText | Should -BeExactly "${prefix}plain"
                ($done.CompletionMatches | Where-Object ListItemText -eq "$prefix it's").CompletionText | Should -BeExactly "'$prefix it''s'"
            }
        } finally {
            foreach ($sh in $shells) { Stop-TestShell $sh }
        }
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
        @{ Name = 'LocalPort'; Value = 70000; Pattern = "'70000' is not a port" }
        @{ Name = 'LocalPort'; Value = ''; Pattern = "'' is not a port" }
        @{ Name = 'RemotePort'; Value = @(' ', 80); Pattern = "' ' is not a port" }
        @{ Name = 'RemotePort'; Value = '0x50'; Pattern = "'0x50' is not a port" }
        @{ Name = 'Port'; Value = 65536; Pattern = "'65536' is not a port" }
        @{ Name = 'LocalPort'; Value = '9000-8000'; Pattern = "'9000-8000' is not a port: use a whole number from 0 to 65535, or a range such as 8000-8999" }
        @{ Name = 'RemotePort'; Value = '8000-'; Pattern = "'8000-' is not a port" }
        @{ Name = 'Port'; Value = '1-2-3'; Pattern = "'1-2-3' is not a port" }
        @{ Name = 'Port'; Value = '1-65536'; Pattern = "'1-65536' is not a port" }
        @{ Name = 'ProcessName'; Value = 'a,b'; Pattern = "'a,b' is not a process name pattern" }
        @{ Name = 'Protocol'; Value = 'SCTP'; Pattern = 'SCTP' }
        @{ Name = 'AddressFamily'; Value = 'IPv5'; Pattern = 'IPv5' }
        @{ Name = 'LocalAddress'; Value = '[::1]:80'; Pattern = "'[::1]:80' is not an IPv4 or IPv6 address" }
        @{ Name = 'RemoteAddress'; Value = '[10.0.0.1]'; Pattern = "'[10.0.0.1]' is not an IPv4 or IPv6 address" }
    ) {
        $arguments = @{ $Name = $Value }
        { Get-ProcConnection @arguments } | Should -Throw -ExpectedMessage "*$([WildcardPattern]::Escape($Pattern))*" -ErrorId 'ParameterArgument*Error,Get-ProcConnection'
        "$engine.args" | Should -Not -Exist
    }

    It 'refuses an empty or $null -<_> with a parameter error and never starts the engine' -ForEach @(
        'LocalAddress', 'LocalPort', 'RemoteAddress', 'RemotePort', 'Port', 'State', 'ProcessName', 'Protocol', 'AddressFamily'
    ) {
        $empty = @{ $_ = @() }
        { Get-ProcConnection @empty } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Get-ProcConnection' -Because "-$_ @()"
        $nothing = @{ $_ = $null }
        { Get-ProcConnection @nothing } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Get-ProcConnection' -Because "-$_ `$null"
        "$engine.args" | Should -Not -Exist
    }

    It 'refuses an -OwningProcess that is empty, $null, blank or not a whole number, and never starts the engine' -ForEach @(
        @{ Value = @(); Id = 'ProcConnNoProcessId' }
        @{ Value = $null; Id = 'ProcConnNoProcessId' }
        @{ Value = ''; Id = 'ProcConnNoProcessId' }
        @{ Value = @(5, ' '); Id = 'ProcConnNoProcessId' }
        @{ Value = '-1'; Id = 'ProcConnBadProcessId' }
        @{ Value = '1.5'; Id = 'ProcConnBadProcessId' }
        @{ Value = '4294967296'; Id = 'ProcConnBadProcessId' }
    ) {
        # As [uint32], '' would have been pid 0: on Windows the System Idle Process.
        { Get-ProcConnection -OwningProcess $Value } | Should -Throw -ErrorId "$Id,Get-ProcConnection"
        "$engine.args" | Should -Not -Exist
    }

    It 'gives an input object without a process id an error of its own, and lists the others' {
        # Rows without an owner, and Import-Csv's empty cells, have no id: none of them is pid 0.
        $inputs = [pscustomobject]@{ OwningProcess = $null }, [pscustomobject]@{ Id = '' },
        [pscustomobject]@{ ProcessId = 'abc' }, [pscustomobject]@{ Id = 7 }
        $inputs | Get-ProcConnection -ErrorVariable problems -ErrorAction SilentlyContinue | Out-Null
        @($problems.FullyQualifiedErrorId) | Should -Be @(
            'ProcConnNoProcessId,Get-ProcConnection', 'ProcConnNoProcessId,Get-ProcConnection',
            'ProcConnBadProcessId,Get-ProcConnection')
        $problems[2].Exception.Message | Should -Be "'abc' is not a process id: use a whole number from 0 to 4294967295 (to select processes by name, use -ProcessName 'abc')"
        $problems[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-Content "$engine.args" | Should -Contain '--pid=7'
    }

    It 'points a piped process name to -ProcessName, and says nothing of names for a bad number' {
        'python3', "o'neil", '-1' | Get-ProcConnection -ErrorVariable problems -ErrorAction SilentlyContinue | Out-Null
        @($problems.Exception.Message) | Should -Be @(
            "'python3' is not a process id: use a whole number from 0 to 4294967295 (to select processes by name, use -ProcessName 'python3')"
            "'o'neil' is not a process id: use a whole number from 0 to 4294967295 (to select processes by name, use -ProcessName 'o''neil')"
            "'-1' is not a process id: use a whole number from 0 to 4294967295")
    }

    It 'passes ports and ids as whole numbers, without the spaces around them' {
        Get-ProcConnection -LocalPort ' 80', 443 -RemotePort '22 ' -OwningProcess ' 6 ', 5 | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--local-port=80,443'
        $arguments | Should -Contain '--remote-port=22'
        $arguments | Should -Contain '--pid=5,6'
        Get-ProcConnection -Port ' 53', 443 -Listening | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--port=53,443'
        $arguments | Should -Contain '--listening'
    }

    It 'passes ranges of ports, and merges consecutive and overlapping ports into ranges' {
        Get-ProcConnection -LocalPort '8000-8999', ' 22 ', '08990 - 9005' -RemotePort (1..1023) -Port 443, 80, 81, 80, 82 | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--local-port=22,8000-9005'
        $arguments | Should -Contain '--remote-port=1-1023'
        $arguments | Should -Contain '--port=80-82,443'
        # 16,384 ports as one list would be 92,000 characters: more than a Windows command line.
        Get-ProcConnection -LocalPort (49152..65535) | Out-Null
        Get-Content "$engine.args" | Should -Contain '--local-port=49152-65535'
    }

    It 'passes pid 0 to the engine like any pid: -OwningProcess, -IncludeChildProcess and the pipeline' {
        Get-ProcConnection -OwningProcess 0 | Out-Null
        Get-Content "$engine.args" | Should -Contain '--pid=0'
        Get-ProcConnection -OwningProcess 0 -IncludeChildProcess | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--pid=0'
        $arguments | Should -Contain '--tree'
        Remove-Item "$engine.args"
        [pscustomobject]@{ Id = 0 } | Get-ProcConnection | Out-Null
        Get-Content "$engine.args" | Should -Contain '--pid=0'
    }

    It 'passes an IPv6 address in brackets without them' {
        Get-ProcConnection -LocalAddress '[::1]', '[fe80::1%3]/64' -RemoteAddress ' [::ffff:10.0.0.1] ' | Out-Null
        $arguments = Get-Content "$engine.args"
        $arguments | Should -Contain '--local=::1,fe80::1%3/64'
        $arguments | Should -Contain '--remote=::ffff:10.0.0.1'
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
            # The same for the copy that Import-Clixml (and remoting) hands back.
            $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($o))
            $copy.PSObject.TypeNames[0] | Should -Be 'Deserialized.ProcConn.Connection'
            $csv = $copy | ConvertTo-Csv | ConvertFrom-Csv
            $csv.Unavailable | Should -Be 'ProcessPath=access-denied;CommandLine=access-denied'
            $csv.Services | Should -Be 'ssh.service;x.service'
            $csv.Id | Should -Be '4242'
        }
    }

    It 'keeps every string as the engine wrote it, even one that looks like a date (<Parser>)' -ForEach @(
        @{ Parser = 'ConvertFrom-Json -DateKind String (PowerShell 7.5 and later)'; DateKind = $true }
        @{ Parser = 'Newtonsoft.Json with date parsing off (PowerShell 7.2 to 7.4)'; DateKind = $false }
    ) {
        InModuleScope ProcConn -Parameters @{ DateKind = $DateKind } {
            param($DateKind)
            if ($DateKind -and -not (Get-Command ConvertFrom-Json).Parameters.ContainsKey('DateKind')) {
                Set-ItResult -Skipped -Because 'this PowerShell is older than 7.5'
                return
            }
            $saved = $script:ProcConnJsonDateKind
            $script:ProcConnJsonDateKind = $DateKind
            try {
                $line = '{"protocol":"TCP","family":"IPv4","localAddress":"127.0.0.1","localPort":80,' +
                '"remoteAddress":null,"remotePort":null,"state":"LISTEN","pid":7,"processName":"/Date(0)/",' +
                '"processPath":"2026-01-02T03:04:05","parentPid":1,"processStartTime":"2026-11-22T01:02:03.500Z",' +
                '"commandLine":"2026-01-02T03:04:05.123+02:00","userName":"\/Date(1700000000000)\/","sessionId":null,' +
                '"services":["2026-01-02T03:04:05Z","/Date(5)/"],"imageSha256":null,"connectionCreated":"2026-11-22T01:02:04Z",' +
                '"bytesIn":null,"bytesOut":null,"segmentsIn":null,"segmentsOut":null,"remoteHostName":"2026-01-02T03:04:05",' +
                '"unavailable":{"remoteHostName":"2026-01-02T03:04:05"}}'
                $o = ConvertTo-ProcConnObject -Line $line
                foreach ($p in 'ProcessName', 'ProcessPath', 'CommandLine', 'UserName', 'RemoteHostName') {
                    $o.$p | Should -BeOfType [string] -Because $p
                }
                $o.ProcessName | Should -BeExactly '/Date(0)/'
                $o.ProcessPath | Should -BeExactly '2026-01-02T03:04:05'
                $o.CommandLine | Should -BeExactly '2026-01-02T03:04:05.123+02:00'
                $o.UserName | Should -BeExactly '/Date(1700000000000)/'
                $o.RemoteHostName | Should -BeExactly '2026-01-02T03:04:05'
                , $o.Services | Should -BeOfType [string[]]
                $o.Services | Should -Be @('2026-01-02T03:04:05Z', '/Date(5)/')
                $o.Unavailable.RemoteHostName | Should -BeExactly '2026-01-02T03:04:05'
                # The two times are times, in local time.
                $o.ProcessStartTime | Should -BeOfType [datetime]
                $o.ProcessStartTime.Kind | Should -Be 'Local'
                $o.ProcessStartTime.ToUniversalTime().ToString('o') | Should -Be '2026-11-22T01:02:03.5000000Z'
                $o.CreationTime.ToUniversalTime().ToString('o') | Should -Be '2026-11-22T01:02:04.0000000Z'
                $o.LocalPort | Should -BeOfType [int]
                $o.OwningProcess | Should -BeOfType [uint32]
                $o.PSObject.TypeNames[0] | Should -Be 'ProcConn.Connection'
            } finally {
                $script:ProcConnJsonDateKind = $saved
            }
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

Describe 'The default view' {
    It 'keeps State on 80 columns and shows whole IPv6 addresses with their ports on a wide console' {
        InModuleScope ProcConn -Parameters @{ Record = (New-TestRecordLine) } {
            param($Record)
            $line = $Record -replace '"localAddress":"127.0.0.1"', '"localAddress":"2001:db8:85a3:1234:5678:8a2e:370:7334"' -replace '"localPort":\d+', '"localPort":65535' -replace '"remoteAddress":null', '"remoteAddress":"fe80::1234:5678:9abc:def0%12"' -replace '"remotePort":null', '"remotePort":443' -replace '"state":"LISTEN"', '"state":"ESTABLISHED"' -replace '"family":"IPv4"', '"family":"IPv6"'
            $o = ConvertTo-ProcConnObject -Line $line
            $narrow = ($o | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() }
            $narrow[0] | Should -Match '^\s*PID\s+ProcessName\s+Proto\s+State\s+Local\s+Remote\s*$'
            $narrow[2] | Should -Match '^\s*77\s+stand-in\s+TCP\s+ESTABLISHED\s+\[2001:db8\S*\s+\[fe80::\S*$'
            foreach ($l in $narrow) { $l.TrimEnd().Length | Should -BeLessOrEqual 80 }
            $wide = $o | Out-String -Width 200
            $wide | Should -Match 'ESTABLISHED\s+\[2001:db8:85a3:1234:5678:8a2e:370:7334\]:65535\s+\[fe80::1234:5678:9abc:def0%12\]:443'
        }
    }

    It 'shows IPv4 addresses with their ports whole on 80 columns, up to 18 characters' {
        InModuleScope ProcConn -Parameters @{ Record = (New-TestRecordLine) } {
            param($Record)
            $line = $Record -replace '"localAddress":"127.0.0.1"', '"localAddress":"192.168.1.10"' -replace '"localPort":\d+', '"localPort":52345' -replace '"remoteAddress":null', '"remoteAddress":"203.0.113.250"' -replace '"remotePort":null', '"remotePort":8443' -replace '"state":"LISTEN"', '"state":"ESTABLISHED"'
            $o = ConvertTo-ProcConnObject -Line $line
            $narrow = ($o | Out-String -Width 80) -split '\r?\n' | Where-Object { $_.Trim() }
            $narrow[2] | Should -Match '^\s*77\s+stand-in\s+TCP\s+ESTABLISHED\s+192\.168\.1\.10:52345\s+203\.0\.113\.250:8443\s*$'
            foreach ($l in $narrow) { $l.TrimEnd().Length | Should -BeLessOrEqual 80 }
        }
    }
}

Describe 'Validation agrees with the engine' {
    BeforeAll {
        # The engine itself (the checkout's main.ts) judges each argument: exit 0 takes it, 2 refuses it.
        function Test-EngineTakes([string] $Argument) {
            $start = [System.Diagnostics.ProcessStartInfo]::new($Deno)
            foreach ($a in 'run', '-A', '--no-lock', (Join-Path $Repo 'main.ts'), '--format', 'ndjson', "--pid=$PID", $Argument) {
                $start.ArgumentList.Add($a)
            }
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            $start.UseShellExecute = $false
            $p = [System.Diagnostics.Process]::Start($start)
            $stderr = $p.StandardError.ReadToEndAsync()
            $null = $p.StandardOutput.ReadToEnd()
            $p.WaitForExit()
            $null = $stderr.GetAwaiter().GetResult()
            switch ($p.ExitCode) { 0 { $true } 2 { $false } default { throw "The engine failed on '$Argument' (exit $_)" } }
        }
    }

    It 'addresses: what validation takes the engine takes, in the form passed on; what it refuses the engine refuses' {
        $candidates = '127.0.0.1', '::1', '[::1]', '[fe80::1%3]/64', '[::1]:80', '[10.0.0.1]', '10.0.0.0/8',
        '10.0.0.0/33', '1.2.3', '1', '0x7f.0.0.1', '256.1.1.1', 'fe80::1%eth0', '::ffff:1.2.3.4', '::ffff:1.2.3',
        '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '::/0', '::/129', 'g::1', '1.2.3.4/', '1.2.3.4%5',
        '010.0.0.1', '127.0.0.01/8', '::ffff:127.000.0.1', '0.0.0.0', '10.0.0.0/08',
        'fe80::1%', 'fe80::1%4', 'fe80::%4/64', 'febf::1%1', 'fec0::1%1', 'ff02::1%1', 'ff01::1%2', 'ff12::1%1',
        'ff05::1%1', '::1%1', '::%1', '2001:db8::1%2', 'fe80::1%4294967295', 'fe80::1%4294967296', 'fe80::1%+4'
        $disagree = foreach ($c in $candidates) {
            $passed = InModuleScope ProcConn -Parameters @{ Text = $c } { param($Text) ConvertTo-ProcConnAddress $Text }
            $engineTakes = Test-EngineTakes "--local=$(if ($null -ne $passed) { $passed } else { $c })"
            if ($engineTakes -ne ($null -ne $passed)) { "'$c': validation $(if ($null -ne $passed) { "takes it as '$passed'" } else { 'refuses it' }), the engine does not agree" }
        }
        $disagree | Should -BeNullOrEmpty
    }

    It 'ports: what validation takes the engine takes, as the list passed on; what it refuses the engine refuses' {
        $candidates = '0', '65535', '65536', '080', ' 443 ', '8000-8999', '8000 - 8999', '443-443', '9000-8000',
        '8000-', '-8000', '-1', '1-2-3', '1-65536', '0x50', '1e3', '', ' ', '8000..8999', '+80', '80.0', '1 2'
        $disagree = foreach ($c in $candidates) {
            $range = InModuleScope ProcConn -Parameters @{ Text = $c } { param($Text) ConvertTo-ProcConnPortRange $Text }
            $list = if ($null -ne $range) { InModuleScope ProcConn -Parameters @{ Text = $c } { param($Text) Join-ProcConnPortList $Text } }
            $engineTakes = Test-EngineTakes "--local-port=$(if ($null -ne $range) { $list } else { $c })"
            if ($engineTakes -ne ($null -ne $range)) { "'$c': validation $(if ($null -ne $range) { "takes it as '$list'" } else { 'refuses it' }), the engine does not agree" }
        }
        $disagree | Should -BeNullOrEmpty
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
