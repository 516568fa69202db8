"""``blocks-rx doctor``: what is installed, what works together, and the command fixing each gap."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys

PIP = f"{sys.executable} -m pip install"
APT = "apt-get install -y"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _rscript(expression: str) -> str | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    done = subprocess.run([rscript, "-e", expression], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else None


def checks() -> list[tuple[str, bool, str, str]]:
    """(component, works, detail, fix) for every optional piece."""
    rows = []
    for name, dist, fix, why in [
        ("numpy", "numpy", f"{PIP} numpy", "required"),
        ("scipy", "scipy", f"{PIP} scipy", "required"),
        ("numba", "numba", f"{PIP} numba", "required: the R-identical hclust twin"),
        ("matplotlib", "matplotlib", f"{PIP} matplotlib", "required: figures"),
        ("pandas", "pandas", f"{PIP} pandas", "required: CSV input, tables"),
        ("pyarrow", "pyarrow", f"{PIP} 'blocks-rx[parquet]'", "optional: .parquet input"),
        ("langid", "langid", f"{PIP} 'blocks-rx[demo]'", "optional: the demo"),
    ]:
        version = _version(dist)
        rows.append((name, version is not None, f"{version} ({why})" if version else why, fix))

    r_version = _rscript('cat(paste(R.version$major, R.version$minor, sep="."))')
    rows.append(("R", r_version is not None, r_version or "Rscript not found",
                 f"{APT} r-base-core r-base-dev"))
    for package, apt_name in (("seriation", "r-cran-seriation"), ("jsonlite", "r-cran-jsonlite")):
        version = _rscript(f'cat(as.character(packageVersion("{package}")))') if r_version else None
        rows.append((f"R package {package}", version is not None, version or "not installed",
                     f"{APT} {apt_name}"))

    version = _rscript('cat(as.character(packageVersion("blocksrx")))') if r_version else None
    rows.append(("R package blocksrx", version is not None,
                 f"{version} (read_blocks, print/summary/plot in R)" if version else
                 "not installed (R users: read_blocks(), plot(x))",
                 "make setup  (R CMD INSTALL r_scripts/blocksrx)"))
    rows += _font_rows()

    rpy2 = _version("rpy2")
    detail, works = "not installed", False
    if rpy2:
        from .r.session import RUnavailable, session

        try:
            started = session()
            detail, works = f"{rpy2}, runs R {started.versions['R']}", True
        except RUnavailable as exc:
            detail = f"{rpy2}, but: {exc}"
    rows.append(("rpy2 (R bridge)", works, detail, f"{PIP} 'rpy2>=3.5.17,<3.6'"))

    torch_version = _version("torch")
    rows.append(("torch", torch_version is not None, torch_version or "not installed",
                 f"{PIP} torch==2.13.0  (the CPU wheel; an unpinned torch pulls a CUDA build)"))
    if torch_version:
        try:
            import torch

            cuda = torch.cuda.is_available()
            detail = torch.cuda.get_device_name(0) if cuda else "no CUDA device (CPU only)"
        except Exception as exc:  # a broken CUDA install should not break the report
            cuda, detail = False, f"torch failed: {exc}"
        rows.append(("CUDA", cuda, detail, "a CUDA build of torch and an NVIDIA GPU"))
    return rows


#: One word per script that class names often use, to check that figures can draw them.
SCRIPT_SAMPLES = {"Latin, Greek, Cyrillic": "Ωmega Язык", "Arabic, Hebrew": "عربي עברית",
                  "Indic": "हिन्दी বাংলা தமிழ்", "Chinese, Japanese": "中文 日本語",
                  "Korean": "한국어"}


def _font_rows() -> list[tuple[str, bool, str, str]]:
    """Whether the installed fonts draw class names in each script (figures, tick labels)."""
    try:
        from .plot import drawable
    except ImportError:  # matplotlib missing: reported above
        return []
    fixes = {"Chinese, Japanese": "fonts-wqy-microhei", "Korean": "fonts-wqy-microhei"}
    rows = []
    for script, sample in SCRIPT_SAMPLES.items():
        works = drawable(sample)
        rows.append((f"fonts: {script}", works, "drawn" if works else "drawn as empty boxes",
                     f"{APT} {fixes.get(script, 'fonts-noto-core')}"))
    return rows


def report() -> int:
    """Print the checks; exit status 1 when a required piece is missing."""
    rows = checks()
    width = max(len(r[0]) for r in rows)
    for name, works, detail, fix in rows:
        mark = "ok " if works else "-- "
        line = f"{mark} {name:<{width}}  {detail}"
        if not works:
            line += f"\n    {' ' * width}  fix: {fix}"
        print(line)
    print(_orderings_line())
    required = {"numpy", "scipy", "numba", "matplotlib", "pandas"}
    return 0 if all(works for name, works, *_ in rows if name in required) else 1


def _orderings_line() -> str:
    """Which ordering methods of the registry can run here, and any the installed seriation
    adds that the registry does not know yet."""
    from .ordering import ORDERINGS

    built_in = [name for name, entry in ORDERINGS.items() if not entry.needs_r]
    in_r = [name for name, entry in ORDERINGS.items() if entry.needs_r]
    try:
        from .r.seriation import seriation_methods

        offered = seriation_methods("dist")
    except Exception:  # R or seriation missing: already reported above, with the fix
        return (f"orderings: {', '.join(built_in)} run here; the {len(in_r)} seriation methods "
                "need R with seriation (see above)")
    extra = sorted(set(offered) - set(in_r))
    line = (f"orderings: {', '.join(built_in)} and {len(in_r)} seriation methods run here "
            "(`blocks-rx methods orderings` lists them)")
    if extra:
        line += f"; the installed seriation also offers {', '.join(extra)}"
    return line
