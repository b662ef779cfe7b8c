# The key of the mark New-ProcConnEngineFault puts in an exception's Data.
$script:ProcConnEngineFault = 'ProcConn.EngineFault'

function New-ProcConnEngineFault {
    # An exception for a failure of the engine (not found, not started, failed, or output it cannot
    # have written), marked as such. A public command wraps marked exceptions in its own error
    # record and passes any other exception on unchanged: an error raised downstream while its
    # objects are being written (Get-ProcConnection | ForEach-Object { throw 'x' }) comes through
    # the same try/catch, and is the user's own.
    param(
        [Parameter(Mandatory)] [type] $Type,
        [Parameter(Mandatory)] [string] $Message,
        [System.Exception] $InnerException
    )
    $exception = if ($InnerException) { $Type::new($Message, $InnerException) } else { $Type::new($Message) }
    $exception.Data[$script:ProcConnEngineFault] = $true
    $exception
}
