# Record field -> object property: Get-NetTCPConnection's names where it has the field.
$script:ProcConnPropertyName = @{
    protocol          = 'Protocol'
    family            = 'AddressFamily'
    localAddress      = 'LocalAddress'
    localPort         = 'LocalPort'
    remoteAddress     = 'RemoteAddress'
    remotePort        = 'RemotePort'
    state             = 'State'
    pid               = 'OwningProcess'
    processName       = 'ProcessName'
    processPath       = 'ProcessPath'
    parentPid         = 'ParentProcessId'
    processStartTime  = 'ProcessStartTime'
    commandLine       = 'CommandLine'
    userName          = 'UserName'
    sessionId         = 'SessionId'
    services          = 'Services'
    imageSha256       = 'ImageSha256'
    connectionCreated = 'CreationTime'
    bytesIn           = 'BytesIn'
    bytesOut          = 'BytesOut'
    segmentsIn        = 'SegmentsIn'
    segmentsOut       = 'SegmentsOut'
    remoteHostName    = 'RemoteHostName'
}

# Every field of a record (ConvertTo-ProcConnObject checks that the engine wrote them all).
$script:ProcConnRecordField = @(@($script:ProcConnPropertyName.Keys) + 'unavailable' | Sort-Object)

# ConvertFrom-Json reads text that looks like a date ("2026-01-02T03:04:05", "/Date(0)/") as a
# [datetime], so a process could name itself out of Where-Object ProcessName -eq. From PowerShell
# 7.5, -DateKind String keeps it text; before, the Newtonsoft.Json reader that ConvertFrom-Json is
# built on (part of PowerShell 7.2-7.4) is called directly, with date parsing off.
$script:ProcConnJsonDateKind = (Get-Command -Name Microsoft.PowerShell.Utility\ConvertFrom-Json).Parameters.ContainsKey('DateKind')
if (-not $script:ProcConnJsonDateKind) {
    # PowerShell loads it at startup as a rule; type names resolve only in loaded assemblies.
    Add-Type -AssemblyName Newtonsoft.Json
}

function ConvertTo-ProcConnObject {
    <#
    .SYNOPSIS
    Turns NDJSON lines of the procconn engine into ProcConn.Connection objects.

    .DESCRIPTION
    Each pipeline input is a batch of lines (one line is a batch of one); a batch is parsed with
    one call, as a JSON array, which costs far less per record than a call per line. Every string
    stays the string the engine wrote; only the two times become [datetime].

    A batch is made into objects before any of them is written. An error while making them is an
    engine fault (New-ProcConnEngineFault): a line that is not a JSON record, a field missing (an
    engine of another release), a value of the wrong kind. An error downstream, while the objects
    are written, is not caught here.
    #>
    [CmdletBinding()]
    [OutputType('ProcConn.Connection')]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [string[]] $Line
    )
    begin {
        $invariant = [cultureinfo]::InvariantCulture
        $roundtrip = [System.Globalization.DateTimeStyles]::RoundtripKind
        $fault = {
            param([string] $Message, [string] $Text, [System.Exception] $Cause)
            if ($Text.Length -gt 200) { $Text = $Text.Substring(0, 200) + '...' }
            if ($Text) { $Message += ": $Text" }
            New-ProcConnEngineFault -Type ([System.IO.InvalidDataException]) -InnerException $Cause -Message (
                "$Message (the ProcConn module and the procconn engine must come from the same release)")
        }
    }
    process {
        $json = '[' + [string]::Join(',', $Line) + ']'
        $i = -1
        try {
            # Records are read as dictionaries (field -> value) on either path.
            $records = @(if ($script:ProcConnJsonDateKind) {
                    ConvertFrom-Json -InputObject $json -AsHashtable -DateKind String
                } else {
                    $settings = [Newtonsoft.Json.JsonSerializerSettings]::new()
                    $settings.DateParseHandling = [Newtonsoft.Json.DateParseHandling]::None
                    $read = [Newtonsoft.Json.JsonConvert]::DeserializeObject($json, [System.Collections.Specialized.OrderedDictionary[]], $settings)
                    foreach ($r in $read) {
                        # Nested values come as JSON tokens: made plain, as ConvertFrom-Json makes them.
                        if ($null -ne $r -and $r['services'] -is [Newtonsoft.Json.Linq.JToken]) { $r['services'] = $r['services'].ToObject([string[]]) }
                        if ($null -ne $r -and $r['unavailable'] -is [Newtonsoft.Json.Linq.JToken]) {
                            $r['unavailable'] = $r['unavailable'].ToObject([System.Collections.Specialized.OrderedDictionary])
                        }
                    }
                    $read
                })
            # An engine of another release lacks fields in every record: the first one tells.
            if ($records.Count -and $records[0] -is [System.Collections.IDictionary]) {
                $missing = @($script:ProcConnRecordField | Where-Object { -not $records[0].Contains($_) })
                if ($missing.Count) {
                    $names = ($missing | ForEach-Object { "'$_'" }) -join ', '
                    throw (& $fault "The procconn engine's output lacks the field$(if ($missing.Count -gt 1) { 's' }) $names")
                }
            }
            $objects = @(foreach ($r in $records) {
                    $i++
                    if ($r -isnot [System.Collections.IDictionary]) {
                        throw (& $fault 'The procconn engine wrote a line that is not a JSON record' $(if ($records.Count -eq $Line.Count) { $Line[$i] } else { $json }))
                    }
                    $reasons = [ordered]@{ PSTypeName = 'ProcConn.Unavailable' }
                    if ($null -ne $r.unavailable) {
                        foreach ($p in $r.unavailable.GetEnumerator()) {
                            $name = $script:ProcConnPropertyName[$p.Key]
                            if ($name) { $reasons[$name] = [string]$p.Value } else { $reasons[[string]$p.Key] = [string]$p.Value }
                        }
                    }
                    $services = $null
                    if ($null -ne $r.services) {
                        # Still a [string[]]; Export-Csv writes it a;b, as procconn's CSV does (ProcConn.psm1).
                        $services = [psobject]::AsPSObject([string[]]$r.services)
                        $services.PSObject.TypeNames.Insert(0, 'ProcConn.Services')
                    }
                    # Times are shown in local time, as Get-Process shows StartTime, so that comparisons
                    # with Get-Date hold. The engine writes them in ISO 8601, in UTC. (On Linux the
                    # engine counts from the boot time in whole seconds, as ps does: up to 1 s before
                    # Get-Process's StartTime, see the README.)
                    $started = $null
                    if ($null -ne $r.processStartTime) { $started = [datetime]::Parse($r.processStartTime, $invariant, $roundtrip).ToLocalTime() }
                    $created = $null
                    if ($null -ne $r.connectionCreated) { $created = [datetime]::Parse($r.connectionCreated, $invariant, $roundtrip).ToLocalTime() }
                    # Strings stay as the engine wrote them (null stays null); numbers and times are typed.
                    [pscustomobject]@{
                        PSTypeName       = 'ProcConn.Connection'
                        Protocol         = $r.protocol
                        AddressFamily    = $r.family
                        LocalAddress     = $r.localAddress
                        LocalPort        = [int]$r.localPort
                        RemoteAddress    = $r.remoteAddress
                        RemotePort       = [Nullable[int]]$r.remotePort
                        State            = $r.state
                        OwningProcess    = [Nullable[uint32]]$r.pid
                        ProcessName      = $r.processName
                        ProcessPath      = $r.processPath
                        ParentProcessId  = [Nullable[uint32]]$r.parentPid
                        ProcessStartTime = $started
                        CommandLine      = $r.commandLine
                        UserName         = $r.userName
                        SessionId        = [Nullable[uint32]]$r.sessionId
                        Services         = $services
                        ImageSha256      = $r.imageSha256
                        CreationTime     = $created
                        BytesIn          = [Nullable[uint64]]$r.bytesIn
                        BytesOut         = [Nullable[uint64]]$r.bytesOut
                        SegmentsIn       = [Nullable[uint64]]$r.segmentsIn
                        SegmentsOut      = [Nullable[uint64]]$r.segmentsOut
                        RemoteHostName   = $r.remoteHostName
                        Unavailable      = [pscustomobject]$reasons
                    }
                })
        } catch {
            if ($_.Exception.Data.Contains($script:ProcConnEngineFault)) { throw }
            if ($i -lt 0) {
                # The batch did not parse: show the first line that is not a JSON object on its own.
                $bad = foreach ($l in $Line) {
                    if (-not ($l.TrimStart().StartsWith('{') -and (Test-Json -Json $l -ErrorAction Ignore))) { $l; break }
                }
                throw (& $fault 'The procconn engine wrote a line that is not a JSON record' $(if ($bad) { $bad } else { $Line[0] }) $_.Exception)
            }
            $text = if ($records.Count -eq $Line.Count) { $Line[$i] } else { $json }
            throw (& $fault "The procconn engine wrote a record this module cannot read ($($_.Exception.Message))" $text $_.Exception)
        }
        # Written outside the try: an error raised downstream is not the engine's.
        $objects
    }
}
