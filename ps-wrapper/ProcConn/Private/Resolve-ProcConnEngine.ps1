function Resolve-ProcConnEngine {
    <#
    .SYNOPSIS
    Finds the procconn engine: the command to start and the arguments that come before procconn's own.

    .DESCRIPTION
    Looks, in this order, for:
    1. a procconn executable in the module folder, then in the folder that holds the module folder
       (the layout of the release bundles);
    2. the file named by the PROCCONN_EXE environment variable;
    3. the procconn checkout the module sits in (ps-wrapper/ProcConn), run as the checkout's
       package.json runs it, with the Deno in its node_modules or else the one on the PATH;
    4. procconn on the PATH.
    Throws one error naming every place it looked when none is there.
    #>
    [CmdletBinding()]
    [OutputType([pscustomobject])]
    param()

    $exeName = if ($IsWindows) { 'procconn.exe' } else { 'procconn' }
    $looked = [System.Collections.Generic.List[string]]::new()

    $moduleFolder = Split-Path -Parent $PSScriptRoot
    foreach ($folder in $moduleFolder, (Split-Path -Parent $moduleFolder)) {
        $candidate = Join-Path $folder $exeName
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            return [pscustomobject]@{ FilePath = $candidate; Arguments = [string[]]@(); Source = 'module' }
        }
        $looked.Add($candidate)
    }

    if ($env:PROCCONN_EXE) {
        if (-not (Test-Path -LiteralPath $env:PROCCONN_EXE -PathType Leaf)) {
            throw [System.IO.FileNotFoundException]::new(
                "PROCCONN_EXE names '$($env:PROCCONN_EXE)', which is not a file: set it to the procconn executable or remove it",
                $env:PROCCONN_EXE)
        }
        return [pscustomobject]@{ FilePath = $env:PROCCONN_EXE; Arguments = [string[]]@(); Source = 'PROCCONN_EXE' }
    }
    $looked.Add('$env:PROCCONN_EXE (not set)')

    $checkout = Get-ProcConnCheckoutEngine
    if ($checkout.Engine) { return $checkout.Engine }
    $looked.Add($checkout.Looked)

    $onPath = Get-Command -Name $exeName -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($onPath) {
        return [pscustomobject]@{ FilePath = $onPath.Source; Arguments = [string[]]@(); Source = 'PATH' }
    }
    $looked.Add("$exeName on the PATH")

    throw [System.IO.FileNotFoundException]::new(
        "The procconn engine was not found. Looked in: $($looked -join '; '). Put $exeName in the module folder or set PROCCONN_EXE to its path")
}

function Get-ProcConnCheckoutEngine {
    # The development fallback: ps-wrapper/ProcConn inside a procconn checkout whose dependencies
    # are installed (npm ci), run the way package.json's "procconn" script runs it.
    $moduleFolder = Split-Path -Parent $PSScriptRoot
    $root = Split-Path -Parent (Split-Path -Parent $moduleFolder)
    $package = Join-Path $root 'package.json'
    $mainTs = Join-Path $root 'main.ts'
    $looked = "a procconn checkout at $root with its Deno (npm ci)"
    if (-not ((Test-Path -LiteralPath $package) -and (Test-Path -LiteralPath $mainTs))) {
        return [pscustomobject]@{ Engine = $null; Looked = $looked }
    }
    $script = $null
    try {
        $script = (Get-Content -LiteralPath $package -Raw | ConvertFrom-Json).scripts.procconn
    } catch {
        Write-Verbose "Cannot read the run command from ${package}: $_"
    }
    $words = if ($script) { -split $script } else { @() }
    if ($words.Count -lt 3 -or $words[0] -ne 'deno' -or $words[-1] -ne 'main.ts') {
        return [pscustomobject]@{ Engine = $null; Looked = "$looked (package.json has no 'deno ... main.ts' procconn script)" }
    }
    $denoName = if ($IsWindows) { 'deno.exe' } else { 'deno' }
    $candidates = @(
        Join-Path $root "node_modules/deno/$denoName"
        Join-Path $root "node_modules/@deno/win32-x64/$denoName"
        Join-Path $root "node_modules/@deno/linux-x64-glibc/$denoName"
    )
    $deno = $candidates | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $deno) {
        # A checkout used with a Deno installed on its own.
        $deno = Get-Command -Name $denoName -CommandType Application -ErrorAction Ignore |
            Select-Object -First 1 -ExpandProperty Source
    }
    if (-not $deno) {
        return [pscustomobject]@{ Engine = $null; Looked = "$looked (no Deno in its node_modules or on the PATH: run npm ci)" }
    }
    $arguments = [string[]]@($words[1..($words.Count - 2)] + $mainTs)
    [pscustomobject]@{
        Engine = [pscustomobject]@{ FilePath = $deno; Arguments = $arguments; Source = 'checkout' }
        Looked = $looked
    }
}
