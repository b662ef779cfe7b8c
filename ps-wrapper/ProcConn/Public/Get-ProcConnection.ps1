# The longest --pid=a,b,c list given on the engine's command line (about 2,000 ids); a longer one
# goes on its standard input. Windows takes 32,767 characters for a whole command line: this
# leaves half of it for the other arguments.
$script:ProcConnPidListLength = 16000

# The properties an input object's process id is bound from (-OwningProcess and its aliases).
$script:ProcConnIdProperties = @('OwningProcess', 'ProcessId', 'Pid', 'Id')

function Get-ProcConnection {
    <#
    .SYNOPSIS
    Gets TCP and UDP endpoints, IPv4 and IPv6, with the process that owns each one.

    .DESCRIPTION
    Get-ProcConnection lists every TCP and UDP endpoint of the machine in one merged list, like
    Get-NetTCPConnection and Get-NetUDPEndpoint together, with the owning process already joined
    in: its id, name, full path, parent, start time, command line and user. Records come from the
    procconn engine and stream out as the engine produces them.

    A row is never dropped: when a process field cannot be read (access denied, the process exited,
    a TIME_WAIT socket with no owner), the field is empty and the Unavailable property says why
    (for example Unavailable.ProcessPath = 'access-denied'). Unavailable has a property only for
    each empty field: under Set-StrictMode, read one that may be absent as
    ($_.Unavailable.PSObject.Properties['ProcessPath'])?.Value. When the engine could not fully read
    some processes, one warning says how many; run elevated to see their details. A process id or
    name that matches no running process, or a process whose sockets cannot be seen without
    elevation (Linux), is a warning too.

    States are netstat's names (ESTABLISHED, LISTEN, TIME_WAIT, ...). -State also takes
    Get-NetTCPConnection's spellings (Established, Listen, TimeWait, ...), in any case.

    Processes piped in (Get-Process) are bound by their Id and listed together, by one run of the
    engine. The ids reach it on its command line, or on its standard input when they are too many
    for one (a command line has at most 32,767 characters on Windows).

    Values are checked by parameter validation before the engine runs: an address, state or name
    the engine would refuse, and an empty or $null list, are refused there.

    .PARAMETER LocalAddress
    Local addresses or CIDR blocks (127.0.0.0/8, ::1). A row matching any of them is kept. An IPv6
    address may be written in brackets, as the default table shows it ([::1], [fe80::1%12]). A
    link-local address with a zone (fe80::1%12, fe80::%12/64) matches only on that interface index;
    without one it matches on every interface. Zones are interface indexes, not names.

    .PARAMETER LocalPort
    Local ports, whole numbers from 0 to 65535, or ranges of them written FIRST-LAST
    ('49152-65535'). A row on any of them is kept. A list such as (8000..8999) is passed to the
    engine as the range it makes up.

    .PARAMETER RemoteAddress
    Remote addresses or CIDR blocks (10.0.0.0/8, fe80::/10), IPv6 addresses also in brackets.
    IPv4-mapped IPv6 peers (::ffff:10.1.2.3) match IPv4 blocks, and IPv4 peers match blocks of
    IPv4-mapped addresses (::ffff:10.0.0.0/104). Rows without a remote end never match.

    .PARAMETER RemotePort
    Remote ports, whole numbers from 0 to 65535, or ranges of them ('1-1023'). A row connected to
    any of them is kept.

    .PARAMETER Port
    Ports on either end, whole numbers from 0 to 65535 or ranges of them ('8000-8999'): a row
    whose local or remote port is any of them is kept (-Port 443 finds a local web server and the
    connections to remote ones).

    .PARAMETER Listening
    Only endpoints that wait for others: TCP listeners and UDP sockets without a remote end. Unlike
    -State Listen, which leaves every UDP endpoint out, it keeps the UDP servers.

    .PARAMETER State
    TCP states to keep: LISTEN, ESTABLISHED, SYN_SENT, SYN_RCVD, FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT,
    CLOSING, LAST_ACK, TIME_WAIT, CLOSED, DELETE_TCB, BOUND or UNKNOWN (a state number procconn does
    not know, from a newer Windows or kernel), or Get-NetTCPConnection's spellings
    (Listen, Established, SynSent, SynReceived, FinWait1, FinWait2, CloseWait, LastAck, TimeWait,
    DeleteTCB), in any case. UDP endpoints have no state, so they are left out when -State is
    given, and -State with -Protocol UDP alone is refused, as is -State without Listen together
    with -Listening: nothing could match.

    .PARAMETER OwningProcess
    Ids of the owning processes, whole numbers from 0 to 4294967295 (aliases ProcessId, Pid and
    Id, which Get-Help leaves out of comment-based help); Tab offers the running processes' ids.
    From the pipeline it takes ids themselves (1234 | Get-ProcConnection, or the lines of a file
    of ids from Get-Content), and the id property of other objects: the Id of Get-Process objects,
    the OwningProcess of Get-NetTCPConnection's, the ProcessId of Win32_Process objects and the pid
    column of a snapshot file read back with Import-Csv. When an object has several, the first
    of OwningProcess, ProcessId, Pid and Id is taken (an event record's Id is the event's). 0 is
    an id like any other: on Windows, the System Idle Process, which owns the TIME_WAIT rows. An
    empty id is refused, not taken as 0: an input object without one (a row without an owning
    process, an empty cell of Import-Csv, an object with no id property) gets an error of its own
    that names it and selects nothing, and the other objects go on.

    .PARAMETER ProcessName
    Names of the owning processes, with the wildcards * and ?, in any case; the .exe suffix is
    optional (notepad++ matches notepad++.exe). Tab completes the names of running processes,
    quoted where a name needs it (spaces, parentheses, |).

    .PARAMETER Protocol
    TCP or UDP (default both).

    .PARAMETER AddressFamily
    IPv4 or IPv6 (default both).

    .PARAMETER IncludeChildProcess
    With -OwningProcess, -ProcessName or processes from the pipeline: also the endpoints of every
    descendant of those processes (a program and everything it started).

    .PARAMETER IncludeImageHash
    Adds ImageSha256, the SHA-256 of each owning process's image file (computed once per file).
    On Linux it is the file the process runs, even when that file was deleted or replaced since.

    .PARAMETER IncludeStatistics
    Adds BytesIn, BytesOut, SegmentsIn and SegmentsOut of TCP connections. Windows keeps these
    counters only for connections whose statistics were switched on; for the others they are
    empty, Unavailable says not-enabled, and a warning says how many. Nothing is changed.

    .PARAMETER EnableStatistics
    -IncludeStatistics, and on Windows first switches the kernel's per-connection statistics on
    where they are off (this needs an elevated session). That changes the system: those
    connections count from then until each one ends. So it asks first (-Confirm:$false does not
    ask; -WhatIf says what it would do, and only reads the counters already on). Linux keeps the
    counters of every connection, so there nothing changes and nothing is asked.

    .PARAMETER ResolveHostName
    Adds RemoteHostName, the name of each remote address: the first name the hosts file gives it,
    else its reverse DNS name (cached, at most 500 ms per lookup).

    .EXAMPLE
    Get-ProcConnection | Where-Object State -eq ESTABLISHED

    Established TCP connections with their processes.

    .EXAMPLE
    Get-Process msedge | Get-ProcConnection

    The endpoints of every msedge process.

    .EXAMPLE
    Get-ProcConnection -LocalPort 443 | Export-Csv -Path c.csv -NoTypeInformation

    Endpoints on local port 443, saved as CSV. Export-Csv writes times in this session's culture
    (02/01/2026 in en-GB, 1/2/2026 in en-US), to the second; Export-ProcConnectionSnapshot writes
    ISO 8601 UTC to the millisecond, which reads back the same on every machine.

    .EXAMPLE
    Get-ProcConnection -LocalPort 4444 -State Listen | Stop-Process -WhatIf

    Stops the process listening on port 4444 (without -WhatIf). A row binds Stop-Process's -Id by
    its Id property (the owning process's id), never -Name: other processes of that name are left
    alone. Get-Process prefers -Name, so use Get-Process -Id $row.OwningProcess.

    .EXAMPLE
    Get-ProcConnection -ProcessName notepad++ -IncludeChildProcess -ResolveHostName

    The endpoints of Notepad++ and of every process it started (its updater), with the DNS names
    of the remote ends.

    .EXAMPLE
    Get-ProcConnection -State Listen -Protocol TCP | Sort-Object LocalPort | Format-Table OwningProcess, ProcessName, LocalAddress, LocalPort, ProcessPath

    Listening TCP ports and the programs behind them.

    .EXAMPLE
    Get-ProcConnection -Listening | Sort-Object Protocol, LocalPort

    Every TCP and UDP server endpoint: what this machine offers to the network.

    .EXAMPLE
    Import-Csv conns.csv | Where-Object remoteAddress -eq 203.0.113.7 | Get-ProcConnection

    The endpoints now of the processes a snapshot file saw talking to 203.0.113.7.

    .EXAMPLE
    Get-ProcConnection -State Established -EnableStatistics | Sort-Object BytesIn -Descending | Select-Object -First 10

    The ten connections that received the most bytes. On Windows, run elevated; it asks before
    switching statistics on, and a connection counts from then on.

    .EXAMPLE
    Get-ProcConnection -RemoteAddress 10.0.0.0/8 | Group-Object ProcessName -NoElement | Sort-Object Count -Descending

    Which programs talk to the 10.0.0.0/8 network, and how much.

    .INPUTS
    System.Diagnostics.Process; any object with an OwningProcess (Get-NetTCPConnection), ProcessId
    (Win32_Process from Get-CimInstance), pid (a snapshot's rows from Import-Csv) or Id property;
    process ids as numbers or text.

    .OUTPUTS
    ProcConn.Connection

    .LINK
    about_ProcConn

    .LINK
    Export-ProcConnectionSnapshot
    #>

    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('ProcConn.Connection')]
    # ValidateNotNullOrEmpty on every list: an empty one would otherwise reach the engine as a flag
    # without a value, or be taken as no filter at all. Ports and process ids are taken as text and
    # checked as whole numbers: as [uint16] or [uint32], '' and ' ' would become 0, a real port or
    # process id (the System Idle Process on Windows).
    # Positional as in Get-NetTCPConnection: the local address, then the local port; the rest by
    # name only.
    param(
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $null -ne (ConvertTo-ProcConnAddress $_) }, ErrorMessage = "'{0}' is not an IPv4 or IPv6 address or CIDR block (127.0.0.1, ::1, [::1], 10.0.0.0/8, fe80::1%4)")]
        [string[]] $LocalAddress,

        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $null -ne (ConvertTo-ProcConnPortRange $_) }, ErrorMessage = "'{0}' is not a port: use a whole number from 0 to 65535, or a range such as 8000-8999")]
        [string[]] $LocalPort,

        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $null -ne (ConvertTo-ProcConnAddress $_) }, ErrorMessage = "'{0}' is not an IPv4 or IPv6 address or CIDR block (127.0.0.1, ::1, [::1], 10.0.0.0/8, fe80::1%4)")]
        [string[]] $RemoteAddress,

        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $null -ne (ConvertTo-ProcConnPortRange $_) }, ErrorMessage = "'{0}' is not a port: use a whole number from 0 to 65535, or a range such as 8000-8999")]
        [string[]] $RemotePort,

        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $null -ne (ConvertTo-ProcConnPortRange $_) }, ErrorMessage = "'{0}' is not a port: use a whole number from 0 to 65535, or a range such as 8000-8999")]
        [string[]] $Port,

        [switch] $Listening,

        [ValidateNotNullOrEmpty()]
        [ValidateSet('LISTEN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RCVD', 'FIN_WAIT1', 'FIN_WAIT2',
            'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT', 'CLOSED', 'DELETE_TCB', 'BOUND',
            'UNKNOWN', 'SynSent', 'SynReceived', 'FinWait1', 'FinWait2', 'CloseWait', 'LastAck', 'TimeWait',
            'DeleteTCB')]
        [string[]] $State,

        # Checked in the process block, not by validation, so that an input object without an id
        # (a row without an owner, an empty CSV cell) gets its own error and the rest go on. Of an
        # input object's properties, the first of OwningProcess, ProcessId, Pid and Id binds: an
        # event record's Id (Get-WinEvent) is the event's, and its ProcessId the process's.
        [Parameter(ValueFromPipelineByPropertyName)]
        [Alias('ProcessId', 'Pid', 'Id')]
        [AllowNull()]
        [ArgumentCompleter({
                param($command, $parameter, $word)
                # Running processes' ids, each shown with its name.
                Get-Process | Where-Object { "$($_.Id)".StartsWith($word) } | Sort-Object Id | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new("$($_.Id)", "$($_.Id) $($_.ProcessName)", 'ParameterValue', "$($_.ProcessName) ($($_.Id))")
                }
            })]
        [string[]] $OwningProcess,

        # The pipeline object itself: an id piped as such (1234 | Get-ProcConnection, or the lines
        # of a file of ids), or an object whose id is looked for in its properties (above).
        [Parameter(ValueFromPipeline, DontShow)]
        [AllowNull()]
        [object] $InputObject,

        [SupportsWildcards()]
        [ArgumentCompleter({
                param($command, $parameter, $word)
                # A word typed in quotes comes with them, closed (typing 'ab gives 'ab'): the name
                # starts inside.
                $prefix = if ($word -match "\A['\u2018-\u201B](.*?)['\u2018-\u201B]?\z") { $Matches[1] -replace "['\u2018-\u201B]{2}", "'" }
                elseif ($word -match '\A["\u201C-\u201E](.*?)["\u201C-\u201E]?\z') { $Matches[1] }
                else { $word }
                # The text inserted is read back as PowerShell: a name such as 'a b(c)' or 'x|calc'
                # goes in single quotes, or it would run as a subexpression or a pipeline. Names
                # that validation refuses (commas, brackets) are not offered.
                Get-Process | Select-Object -ExpandProperty ProcessName -Unique |
                    Where-Object { $_.StartsWith($prefix, [System.StringComparison]::OrdinalIgnoreCase) -and $_ -notmatch '[,\[\]]' -and $_.Trim() -ne '' } |
                    Sort-Object -Unique | ForEach-Object {
                        $text = if ($_ -match '\A[\p{L}\p{Nd}_][\p{L}\p{Nd}_.+-]*\z') { $_ } else {
                            "'" + [System.Management.Automation.Language.CodeGeneration]::EscapeSingleQuotedStringContent($_) + "'"
                        }
                        [System.Management.Automation.CompletionResult]::new($text, $_, 'ParameterValue', $_)
                    }
            })]
        [ValidateNotNullOrEmpty()]
        [ValidateScript({ $_ -notmatch '[,\[\]]' -and $_.Trim() -ne '' }, ErrorMessage = "'{0}' is not a process name pattern: use a name with the wildcards * and ? (no commas or brackets)")]
        [string[]] $ProcessName,

        [ValidateNotNullOrEmpty()]
        [ValidateSet('TCP', 'UDP')]
        [string[]] $Protocol,

        [ValidateNotNullOrEmpty()]
        [ValidateSet('IPv4', 'IPv6')]
        [string[]] $AddressFamily,

        [switch] $IncludeChildProcess,

        [switch] $IncludeImageHash,

        [switch] $IncludeStatistics,

        [switch] $EnableStatistics,

        [switch] $ResolveHostName
    )

    begin {
        $pids = [System.Collections.Generic.SortedSet[uint32]]::new()
        # Here only the command line's parameters are bound. Ids from both the pipeline and
        # -OwningProcess would leave one of them unused (which one depends on what is piped), and
        # -InputObject by name binds no id at all: either would list more than was asked for.
        $refusal = if ($MyInvocation.ExpectingInput -and $PSBoundParameters.ContainsKey('OwningProcess')) {
            'Process ids come from the pipeline or from -OwningProcess, not both: pipe them all, or give them all to -OwningProcess'
        } elseif (-not $MyInvocation.ExpectingInput -and $PSBoundParameters.ContainsKey('InputObject')) {
            '-InputObject takes pipeline input only: pipe the processes or ids (Get-Process x | Get-ProcConnection), or give the ids to -OwningProcess'
        }
        if ($refusal) {
            $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord ([System.ArgumentException]::new($refusal)) 'ProcConnProcessIdSource' $null))
        }
    }

    process {
        # What an error about an id names: the input object it came from, or the id given.
        $source = $null
        if ($MyInvocation.ExpectingInput) {
            # Decided from the object itself: PSBoundParameters keeps OwningProcess, set to $null,
            # for the objects after one that had it.
            if ($null -eq $InputObject) { return }
            $source = $InputObject
            $value = $InputObject
            if ($value -is [psobject]) { $value = $value.PSObject.BaseObject }
            if ($value -is [string] -or $value -is [System.ValueType]) {
                $items = @($InputObject)
            } elseif ($script:ProcConnIdProperties.Where({ $null -ne $InputObject.PSObject.Properties[$_] }, 'First').Count) {
                # Bound from that property; a $null, or an empty list, is one item without an id.
                $items = @($OwningProcess)
                if ($items.Count -eq 0) { $items = @($null) }
            } else {
                $PSCmdlet.WriteError((New-ProcConnErrorRecord ([System.ArgumentException]::new(
                                "The input object ($($value.GetType().FullName)) has no process id: pipe processes (Get-Process), objects with an OwningProcess, ProcessId, Pid or Id property, or the ids themselves")) 'ProcConnNoProcessId' $InputObject))
                return
            }
        } elseif ($PSBoundParameters.ContainsKey('OwningProcess')) {
            # A $null, or an empty list, is one item without an id.
            $items = @($OwningProcess)
            if ($items.Count -eq 0) { $items = @($null) }
        } else {
            return
        }
        foreach ($item in $items) {
            if (Test-ProcConnNumber $item ([uint32]::MaxValue)) {
                [void]$pids.Add([uint32]::Parse("$item".Trim(), [cultureinfo]::InvariantCulture))
                continue
            }
            $text = if ($null -eq $item) { '' } else { "$item" }
            $target = if ($null -ne $source) { $source } else { $item }
            $record = if ($text.Trim() -eq '') {
                New-ProcConnErrorRecord ([System.ArgumentException]::new(
                        "No process id: -OwningProcess (or an input object's OwningProcess, ProcessId, Pid or Id) is empty, as it is for a row without an owning process; it selects nothing")) 'ProcConnNoProcessId' $target
            } else {
                # 'python3' | Get-ProcConnection: a name where an id was expected.
                $byName = if ($item -is [string] -and $text -match '\p{L}') { " (to select processes by name, use -ProcessName '$($text.Trim() -replace "'", "''")')" } else { '' }
                New-ProcConnErrorRecord ([System.ArgumentException]::new(
                        "'$text' is not a process id: use a whole number from 0 to 4294967295$byName")) 'ProcConnBadProcessId' $target
            }
            # An input object's bad id is its own error, and the others go on; a bad -OwningProcess
            # given on the command line stops the command before the engine runs.
            if ($MyInvocation.ExpectingInput) { $PSCmdlet.WriteError($record); continue }
            $PSCmdlet.ThrowTerminatingError($record)
        }
    }

    end {
        # Upstream commands that produced no process select nothing, not everything.
        if ($MyInvocation.ExpectingInput -and $pids.Count -eq 0) { return }
        if ($IncludeChildProcess -and $pids.Count -eq 0 -and -not $ProcessName) {
            $PSCmdlet.ThrowTerminatingError((New-ProcConnErrorRecord ([System.ArgumentException]::new(
                            '-IncludeChildProcess needs -OwningProcess, -ProcessName or processes from the pipeline: it adds their descendants')) 'ProcConnChildWithoutParent'))
        }

        $arguments = [System.Collections.Generic.List[string]]::new()
        $arguments.AddRange([string[]]@('--format', 'ndjson'))
        $list = @{
            '--local'       = $(if ($LocalAddress) { $LocalAddress | ForEach-Object { ConvertTo-ProcConnAddress $_ } })
            '--local-port'  = $(if ($LocalPort) { Join-ProcConnPortList $LocalPort })
            '--remote'      = $(if ($RemoteAddress) { $RemoteAddress | ForEach-Object { ConvertTo-ProcConnAddress $_ } })
            '--remote-port' = $(if ($RemotePort) { Join-ProcConnPortList $RemotePort })
            '--port'        = $(if ($Port) { Join-ProcConnPortList $Port })
            '--state'       = $State
            '--name'        = $ProcessName
        }
        foreach ($flag in $list.Keys) {
            # flag=value, so that a value starting with '-' (a process named -bash) stays a value
            if ($null -ne $list[$flag]) { $arguments.Add("$flag=$($list[$flag] -join ',')") }
        }
        if ($Protocol -and @($Protocol | Sort-Object -Unique).Count -eq 1) { $arguments.Add("--$($Protocol[0].ToLowerInvariant())") }
        if ($AddressFamily -and @($AddressFamily | Sort-Object -Unique).Count -eq 1) {
            $arguments.Add($(if ($AddressFamily[0] -eq 'IPv4') { '-4' } else { '-6' }))
        }
        if ($Listening) { $arguments.Add('--listening') }
        if ($IncludeChildProcess) { $arguments.Add('--tree') }
        if ($IncludeImageHash) { $arguments.Add('--hash') }
        if ($EnableStatistics) {
            # The engine would ask too; here PowerShell asks, and the engine is told the answer. It
            # is the one parameter that changes the system, so the only one ShouldProcess is for.
            $switchOn = -not $IsWindows -or (Confirm-ProcConnAction -Cmdlet $PSCmdlet `
                    -Target 'TCP connections whose kernel statistics are off' `
                    -Action 'Switch the statistics on (they stay on until each connection ends)')
            $arguments.AddRange([string[]]@(if ($switchOn) { '--enable-stats', '--yes' } else { '--stats' }))
        } elseif ($IncludeStatistics) { $arguments.Add('--stats') }
        if ($ResolveHostName) { $arguments.Add('--resolve') }

        # The pids go in one --pid=a,b,c argument. A command line has a limit (32,767 characters in
        # all on Windows, 128 KiB for one argument on Linux): a list longer than
        # $script:ProcConnPidListLength characters goes on the engine's standard input instead.
        $pidList = $pids -join ','
        $engineInput = @{}
        if ($pidList.Length -gt $script:ProcConnPidListLength) {
            $arguments.Add('--pid-file=-')
            $engineInput.InputText = $pidList
        } elseif ($pidList) {
            $arguments.Add("--pid=$pidList")
        }
        try {
            Invoke-ProcConnEngine -ArgumentList $arguments -Cmdlet $PSCmdlet @engineInput | ConvertTo-ProcConnObject
        } catch {
            # Only the engine's failures are this command's to report. Any other error was raised
            # downstream while objects were written (Get-ProcConnection | ForEach-Object { throw })
            # and goes on as it is; the mark is taken off so that an outer Get-ProcConnection it
            # passes through does not take it for its own either.
            # (The record is made first: its category is read from the mark, EACCES and all.)
            if (-not $_.Exception.Data.Contains($script:ProcConnEngineFault)) { throw }
            $record = New-ProcConnErrorRecord $_.Exception 'ProcConnEngine'
            $_.Exception.Data.Remove($script:ProcConnEngineFault)
            $PSCmdlet.ThrowTerminatingError($record)
        }
    }
}
