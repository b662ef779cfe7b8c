function Resolve-ProcConnTaskAccount {
    <#
    .SYNOPSIS
    Tells whether a scheduled task's account is one of Windows' service accounts, and how to name it.

    .DESCRIPTION
    SYSTEM, LOCAL SERVICE and NETWORK SERVICE log on as service accounts; every other account
    runs unattended as S4U. Each of the three is known by several names, all recognised in any
    case: SYSTEM, LocalSystem, NT AUTHORITY\SYSTEM, .\SYSTEM and the SID S-1-5-18; LOCAL SERVICE,
    LocalService, NT AUTHORITY\LOCAL SERVICE and S-1-5-19; NETWORK SERVICE, NetworkService,
    NT AUTHORITY\NETWORK SERVICE and S-1-5-20. On Windows a name in the system's own language
    (NT-AUTORITÄT\SYSTEM) is recognised by its SID, and a service account is given to Task
    Scheduler as this system spells it; elsewhere, in English.

    .OUTPUTS
    An object with UserId (the name to register) and ServiceAccount ([bool]).
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param(
        [Parameter(Mandatory)]
        [string] $User
    )

    $english = @{
        'S-1-5-18' = 'NT AUTHORITY\SYSTEM'
        'S-1-5-19' = 'NT AUTHORITY\LOCAL SERVICE'
        'S-1-5-20' = 'NT AUTHORITY\NETWORK SERVICE'
    }
    $byName = @{
        'SYSTEM' = 'S-1-5-18'; 'LOCALSYSTEM' = 'S-1-5-18'
        'LOCALSERVICE' = 'S-1-5-19'
        'NETWORKSERVICE' = 'S-1-5-20'
    }
    $trimmed = $User.Trim()
    $sid = $null
    if ($english.ContainsKey($trimmed.ToUpperInvariant())) {
        $sid = $trimmed.ToUpperInvariant()
    } else {
        # 'NT AUTHORITY\LOCAL SERVICE', '.\LocalService': the authority or the local machine,
        # then the name with or without its space.
        $bare = ($trimmed -replace '^(NT AUTHORITY|\.)\\', '') -replace '\s', ''
        $sid = $byName[$bare.ToUpperInvariant()]
    }
    if (-not $sid -and $IsWindows) {
        try {
            $translated = ([System.Security.Principal.NTAccount]::new($trimmed)).Translate([System.Security.Principal.SecurityIdentifier]).Value
            if ($english.ContainsKey($translated)) { $sid = $translated }
        } catch {
            # Not an account this system knows by that name: Task Scheduler will say so.
            $null = $_
        }
    }
    if (-not $sid) { return [pscustomobject]@{ UserId = $User; ServiceAccount = $false } }

    $name = $english[$sid]
    if ($IsWindows) {
        try {
            $name = ([System.Security.Principal.SecurityIdentifier]::new($sid)).Translate([System.Security.Principal.NTAccount]).Value
        } catch {
            $null = $_ # The English name, which an English system takes.
        }
    }
    [pscustomobject]@{ UserId = $name; ServiceAccount = $true }
}
