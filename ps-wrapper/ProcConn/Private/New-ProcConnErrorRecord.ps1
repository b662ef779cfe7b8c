function New-ProcConnErrorRecord {
    # The error record a public command terminates with, from an exception of the engine helpers:
    # a refused value is InvalidArgument, a missing engine ObjectNotFound, output the engine cannot
    # have written (not JSON, a field missing) InvalidResult.
    param(
        [Parameter(Mandatory)] [System.Exception] $Exception,
        [Parameter(Mandatory)] [string] $ErrorId,
        [object] $Target
    )
    $category = if ($Exception -is [System.ArgumentException]) { 'InvalidArgument' }
    elseif ($Exception -is [System.IO.FileNotFoundException]) { 'ObjectNotFound' }
    elseif ($Exception -is [System.IO.InvalidDataException]) { 'InvalidResult' }
    else { 'NotSpecified' }
    [System.Management.Automation.ErrorRecord]::new($Exception, $ErrorId, $category, $Target)
}
