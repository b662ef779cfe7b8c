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
