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

function ConvertTo-ProcConnObject {
    <#
    .SYNOPSIS
    Turns NDJSON lines of the procconn engine into ProcConn.Connection objects.

    .DESCRIPTION
    Each pipeline input is a batch of lines (one line is a batch of one); a batch is parsed with
    one ConvertFrom-Json call, as a JSON array, which costs far less per record than a call per
    line.
    #>
    [CmdletBinding()]
    [OutputType('ProcConn.Connection')]
    param(
        [Parameter(Mandatory, ValueFromPipeline)]
        [string[]] $Line
    )
    process {
        foreach ($r in (ConvertFrom-Json -InputObject ('[' + [string]::Join(',', $Line) + ']'))) {
            $reasons = [ordered]@{ PSTypeName = 'ProcConn.Unavailable' }
            foreach ($p in $r.unavailable.PSObject.Properties) {
                $name = $script:ProcConnPropertyName[$p.Name]
                if ($name) { $reasons[$name] = [string]$p.Value } else { $reasons[$p.Name] = [string]$p.Value }
            }
            $services = $null
            if ($null -ne $r.services) {
                # Still a [string[]]; Export-Csv writes it a;b, as procconn's CSV does (ProcConn.psm1).
                $services = [psobject]::AsPSObject([string[]]$r.services)
                $services.PSObject.TypeNames.Insert(0, 'ProcConn.Services')
            }
            # Times are shown in local time, as Get-Process shows StartTime, so that comparisons
            # with Get-Date hold (ConvertFrom-Json already reads ISO 8601 text as a UTC DateTime).
            $started = $null
            if ($null -ne $r.processStartTime) { $started = ([datetime]$r.processStartTime).ToLocalTime() }
            $created = $null
            if ($null -ne $r.connectionCreated) { $created = ([datetime]$r.connectionCreated).ToLocalTime() }
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
        }
    }
}
