@{
    RootModule           = 'ProcConn.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0b7f3e-8a51-4c8e-9a0e-3f6f2b8c1d47'
    Author               = 'procconn contributors'
    Copyright            = '(c) procconn contributors. MIT License.'
    Description          = 'Which process owns this connection? Every TCP and UDP endpoint, IPv4 and IPv6, with the process behind it, as PowerShell objects (Get-ProcConnection), from the procconn engine.'
    PowerShellVersion    = '7.2'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('ProcConn.format.ps1xml')
    FunctionsToExport    = @(
        'Get-ProcConnection'
        'Export-ProcConnectionSnapshot'
        'Register-ProcConnectionSnapshotTask'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('netstat', 'tcp', 'udp', 'connection', 'process', 'incident-response', 'Windows', 'Linux')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
