"""Building the report: execute the chapter notebooks, assemble the HTML page and the PDF."""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from datetime import date as _date
from pathlib import Path

import numpy as np
import pandas as pd

from ..i18n import DEFAULT_LANGUAGE, Translator, check_language
from .tables import CHAPTERS, NOTEBOOKS

_TEMPLATES = Path(__file__).parent.with_name("templates")
#: The chapter notebooks: analyses/ of the source tree (editable install) or, in a built wheel,
#: the copy setup.py ships as package data.
_ANALYSES = Path(__file__).resolve().parent.parent.parent / "analyses"
_PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


# --------------------------------------------------------------------------------------------
# Building the report: execute the notebooks, assemble HTML and PDF
# --------------------------------------------------------------------------------------------


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("reintegration_effects")
    except metadata.PackageNotFoundError:
        return "unknown"


def notebook_dir() -> Path:
    """The folder holding the chapter notebooks: the source tree's analyses/, else the wheel's copy."""
    for folder in (_ANALYSES, _PACKAGED_NOTEBOOKS):
        if all((folder / f"{stem}.py").is_file() for stem in NOTEBOOKS):
            return folder
    raise FileNotFoundError(
        f"the report's notebooks ({', '.join(s + '.py' for s in NOTEBOOKS)}) are neither in {_ANALYSES} nor in "
        f"{_PACKAGED_NOTEBOOKS}. Fix: reinstall the package (pip install reintegration_effects, or pip install . "
        "from its source tree), which ships them")


def _load_notebook(stem: str, parameters: dict):
    """The notebook ``analyses/<stem>.py`` with the parameters injected after its parameters cell."""
    import jupytext
    import nbformat

    nb = jupytext.read(notebook_dir() / f"{stem}.py")
    at = next((i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])), -1)
    src = "# Parameters injected by reintegration_effects.report.write_report\n" + "\n".join(
        f"{k} = {v!r}" for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(src, metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(at + 1, cell)
    for i, c in enumerate(nb.cells):  # deterministic ids (jupytext would draw random ones)
        c["id"] = f"{stem}-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _execute(notebooks: list, *, timeout: int, workdir: Path, workers: int = 2) -> None:
    """Run the notebooks in order with nbclient, on a small pool of kernels.

    Starting a kernel and importing the scientific stack costs a few seconds, more than most
    chapters take, so each of ``workers`` kernels runs several notebooks one after the other.
    The notebooks share nothing but the kernel: each begins by building its own :class:`Report`
    from the protected tables.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    sockets = Path(tempfile.mkdtemp(prefix="re-kernels-"))  # short path: a unix socket name has a length limit
    queue = list(enumerate(notebooks))

    async def worker(k: int):
        # Unix: IPC sockets in a private temporary folder, no TCP port opened (shared machines);
        # Windows (e.g. CBS Remote Access) has no IPC transport: local TCP, as Jupyter itself does
        if os.name == "posix":
            km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=str(sockets / f"k{k}"))
        else:
            km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(workdir), extra_arguments=["--HistoryManager.hist_file=:memory:"])
        try:
            while queue:
                _, nb = queue.pop(0)
                client = NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3", allow_errors=False,
                                        resources={"metadata": {"path": str(workdir)}})
                try:
                    await client.async_execute()
                finally:
                    if client.kc is not None:
                        client.kc.stop_channels()
        finally:
            await km.shutdown_kernel(now=False)  # also removes the connection files

    async def run_all():
        n = max(1, min(workers, len(queue)))
        await asyncio.gather(*(worker(k) for k in range(n)))

    import asyncio

    try:
        _run_coroutine(run_all)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _run_coroutine(make: Callable) -> None:
    """asyncio.run(make()), also when called from inside a running event loop (e.g. a notebook)."""
    import asyncio

    if sys.platform == "win32":  # pyzmq's asyncio needs the selector loop on Windows
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(make())
    else:  # called from inside a running loop (e.g. a notebook): run in a worker thread
        err: list[BaseException] = []

        def target():
            try:
                asyncio.run(make())
            except BaseException as e:  # noqa: BLE001
                err.append(e)

        th = threading.Thread(target=target)
        th.start()
        th.join()
        if err:
            raise err[0]


def _clean_outputs(nb) -> list[str]:
    """Drop empty outputs and stream output (warnings) before conversion; return the stderr text."""
    stderr = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                if o.get("name") == "stderr":
                    stderr.append(o.get("text", ""))
                continue
            if o.output_type in ("display_data", "execute_result") and not o.get("data", {}).get("text/html"):
                continue
            if o.output_type == "execute_result":  # shown like display_data: no prompt, no count
                o["output_type"] = "display_data"
                o.pop("execution_count", None)
            kept.append(o)
        cell["outputs"] = kept
        cell["execution_count"] = None
        cell.metadata.pop("execution", None)
    return stderr


def _failed_parts(nb) -> list[str]:
    """Messages of the parts that :func:`report_part` replaced by a note (non-strict runs)."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            h = o.get("data", {}).get("text/html", "")
            h = h if isinstance(h, str) else "".join(h)
            out += [html.unescape(m) for m in re.findall(r'<p class="part-failed">(.*?)</p>', h, re.S)]
    return out


@functools.lru_cache(maxsize=4)
def _html_exporter(thread: int):
    """One nbconvert exporter per thread for every chapter: it compiles its Jinja templates once,
    not once per chapter (a cache, not state: the exporter keeps nothing of a notebook between
    conversions; per thread because nothing promises that one converts two notebooks at once)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True,
                        exclude_unknown=True, anchor_link_text="")


def _notebook_html(nb) -> str:
    body, _ = _html_exporter(threading.get_ident()).from_notebook_node(nb)
    return body


def _notebook_markdown(nb) -> str:
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md:
                parts.append(md if isinstance(md, str) else "".join(md))
    return "\n\n".join(parts)


def _render_html(chapters: list[tuple[str, str]], t: Translator, meta: dict) -> str:
    import jinja2
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=False,
                             keep_trailing_newline=True)
    tpl = env.get_template("report.html.j2")
    css = (_TEMPLATES / "report.css").read_text(encoding="utf-8")
    css = css.replace("__FIGURE__", t("report.figure")).replace("__TABLE__", t("report.table")).replace(
        "__APPENDIX__", t("report.appendix"))
    js = (_TEMPLATES / "report.js").read_text(encoding="utf-8")
    nav = [(key, t(f"nav.{key}")) for key, _ in chapters]
    return tpl.render(css=css, js=js, plotly_js=get_plotlyjs(), chapters=chapters, nav=nav, **meta)


def _typst_string(s: str) -> str:
    """A Python string as a typst string literal."""
    out = []
    for ch in str(s):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _render_pdf(markdown: str, build: Path, t: Translator, meta: dict, pdf_path: Path, report_date: _date) -> Path:
    import pypandoc
    import typst

    md_path = build / "report.md"
    md_path.write_text(markdown, encoding="utf-8")
    body = pypandoc.convert_text(markdown, "typst", format="markdown+pipe_tables+table_captions+implicit_figures"
                                 "+raw_attribute-tex_math_dollars-citations-subscript-superscript",
                                 extra_args=["--wrap=preserve"])
    (build / "body.typ").write_text(body, encoding="utf-8")
    tpl = (_TEMPLATES / "report.typ").read_text(encoding="utf-8")
    fields = {k: _typst_string(v) for k, v in meta.items() if isinstance(v, str)}
    header = "#let meta = (\n" + "".join(f"  {k}: {v},\n" for k, v in fields.items()) + ")\n"
    source = tpl.replace("// __META__", header).replace("// __BODY__", body)
    typ = build / "report.typ"
    typ.write_text(source, encoding="utf-8")
    from datetime import UTC, datetime

    stamp = datetime(report_date.year, report_date.month, report_date.day, tzinfo=UTC)
    typst.compile(str(typ), output=str(pdf_path), root=str(build), ignore_system_fonts=True,
                  timestamp=int(stamp.timestamp()))
    return pdf_path


#: Manifest keys that change whenever the report is made again (hashes, times, the report files):
#: left out of what the report is given, so a run and a later render give the report the same context.
VOLATILE_MANIFEST_KEYS = ("status", "outputs", "run", "command", "report", "reports", "report_date", "renders")

#: The title-page name of the built-in simulated municipality (a run without --data).
SIMULATED_MUNICIPALITY = "Simstad (simulated)"


def report_context(manifest: dict) -> dict:
    """``manifest``, ``municipality`` and ``window`` for :func:`write_reports`, from a run's manifest.

    The run and ``reintegration-effects render`` both call it (the run on the manifest it writes
    before the report, the render on the final one): the report sees the same context either way.

    >>> c = report_context({"status": "complete", "simulated": True, "settings": {"municipality": None},
    ...                     "window": {"start": "2015-01-01", "end": "2024-12-31"}, "seed": 1})
    >>> sorted(c["manifest"]), c["municipality"], c["window"]
    (['seed', 'settings', 'simulated', 'window'], 'Simstad (simulated)', ('2015-01-01', '2024-12-31'))
    """
    shown = {k: v for k, v in manifest.items() if k not in VOLATILE_MANIFEST_KEYS}
    municipality = (manifest.get("settings") or {}).get("municipality") or (
        SIMULATED_MUNICIPALITY if manifest.get("simulated") else None)
    w = manifest.get("window") or {}
    window = (w.get("start"), w.get("end")) if w.get("start") and w.get("end") else None
    return {"manifest": shown, "municipality": municipality, "window": window}


def report_stem(lang: str, primary: str) -> str:
    """``report`` for the run's first language, ``report.<lang>`` for every other one."""
    return "report" if lang == primary else f"report.{lang}"


def report_file_names(lang: str, primary: str, *, pdf: bool = True) -> list[str]:
    """The report files of ``lang`` in a run folder whose first language is ``primary``.

    >>> report_file_names("nl", "nl"), report_file_names("en", "nl", pdf=False)
    (['report.html', 'report.pdf'], ['report.en.html'])
    """
    stem = report_stem(lang, primary)
    return [f"{stem}.html"] + ([f"{stem}.pdf"] if pdf else [])


def write_reports(out: str | Path, languages: list[str] | tuple[str, ...], *, primary: str | None = None,
                  manifest: dict | None = None, municipality: str | None = None,
                  window: tuple[str, str] | None = None, build_dir: str | Path | None = None,
                  strict: bool = False, timeout: int = 600, report_date: _date | None = None,
                  echo: Callable[[str], None] | None = None, pdf: bool = True) -> dict[str, list[Path]]:
    """The report in each of ``languages``, from one execution of the chapter notebooks.

    The notebooks of every language are executed together on one small pool of kernels (starting
    a kernel and importing the scientific stack costs more than most chapters), then each
    language is assembled into ``OUT/report.html`` and ``OUT/report.pdf`` when it is ``primary``
    (default: the first of ``languages``) and ``OUT/report.<lang>.html`` / ``.pdf`` otherwise.
    The other arguments are those of :func:`write_report`. Returns ``{lang: [html, pdf]}``
    (``[html]`` with ``pdf=False``), in the order of ``languages``.
    """
    languages = [check_language(lang) for lang in languages]
    if not languages or len(set(languages)) < len(languages):
        raise ValueError(f"languages {languages!r}: give one or more, each once")
    primary = check_language(primary or languages[0])
    out = Path(out).resolve()
    report_date = report_date or _date.today()
    version = _package_version()
    tmp = None
    if build_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="report-build-")
        build = Path(tmp.name)
    else:
        build = Path(build_dir).resolve()
        build.mkdir(parents=True, exist_ok=True)
    try:
        context = {
            "municipality": municipality,
            "window": list(window) if window else None,
            "manifest": _jsonable(manifest or {}),
            "simulated": bool((manifest or {}).get("simulated", False)),
            "date": report_date.isoformat(),
            "version": version,
        }
        ctx_path = build / "context.json"
        ctx_path.write_text(json.dumps(context, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        # one build folder per language (its figures, its typst source); the primary one is the build
        # folder itself, as write_report always had it
        builds = {lang: build if lang == primary else build / lang for lang in languages}
        notebooks: dict[str, list] = {}
        for lang in languages:
            figures = builds[lang] / "figures"
            if figures.exists():
                shutil.rmtree(figures)
            figures.mkdir(parents=True)
            params = {"out": str(out), "lang": lang, "context": str(ctx_path), "figures": str(figures),
                      "strict": strict}
            notebooks[lang] = [_load_notebook(stem, params) for _, stem in CHAPTERS]
        everything = [nb for lang in languages for nb in notebooks[lang]]
        if echo:
            echo(f"      executing {len(everything)} notebooks ({', '.join(languages)}) ...")
        _execute(everything, timeout=timeout, workdir=build)
        written = {}
        for lang in languages:
            written[lang] = _assemble(notebooks[lang], out, builds[lang], lang=lang, primary=primary,
                                      manifest=manifest, municipality=municipality, window=window,
                                      simulated=context["simulated"], version=version, report_date=report_date,
                                      echo=echo, pdf=pdf)
        return written
    finally:
        if tmp is not None:
            tmp.cleanup()


def _assemble(notebooks: list, out: Path, build: Path, *, lang: str, primary: str, manifest: dict | None,
              municipality: str | None, window, simulated: bool, version: str, report_date: _date,
              echo: Callable[[str], None] | None, pdf: bool) -> list[Path]:
    """One language's executed notebooks -> its HTML page and (``pdf``) its PDF in ``out``."""
    import nbformat

    t = Translator(lang)
    chapters_html, markdown, failed = [], [], []
    for (key, stem), nb in zip(CHAPTERS, notebooks, strict=True):
        stderr = _clean_outputs(nb)
        if stderr and echo:
            echo(f"      {stem} ({lang}): {''.join(stderr).strip()[:300]}")
        failed += [f"{stem} ({lang}): {m}" for m in _failed_parts(nb)]
        nbformat.write(nb, build / f"{stem}.ipynb")
        chapters_html.append((key, _notebook_html(nb)))
        markdown.append(_notebook_markdown(nb))
    w = tuple(window) if window else None
    if not w and isinstance((manifest or {}).get("window"), dict):
        w = ((manifest or {})["window"].get("start"), (manifest or {})["window"].get("end"))
    meta = {
        "title": t("report.title"),
        "subtitle": t("report.subtitle"),
        "municipality": t("report.municipality", municipality=municipality) if municipality
        else t("report.municipality_unknown"),
        "window": t("report.window", start=t.date(w[0]), end=t.date(w[1])) if w and all(w) else "",
        "date": t("report.date", date=t.date(report_date)),
        "version": t("report.version", version=version),
        "toc": t("report.toc"),
        "appendix": t("report.appendix"),
        "simulated": t("report.simulated").replace("**", "") if simulated else "",
        "footer": t("report.footer", version=version),
        "lang": lang,
    }
    if failed:
        msg = (f"{len(failed)} part(s) of the report could not be made and are noted in it instead: "
               + "; ".join(failed))
        if echo:
            echo(f"      {msg}")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
    names = report_file_names(lang, primary, pdf=pdf)
    html_path = out / names[0]
    html_path.write_text(_render_html(chapters_html, t, meta), encoding="utf-8")
    if not pdf:
        return [html_path]
    pdf_path = _render_pdf("\n\n".join(m for m in markdown if m), build, t, meta, out / names[1], report_date)
    return [html_path, pdf_path]


def write_report(out: str | Path, *, lang: str = DEFAULT_LANGUAGE, manifest: dict | None = None,
                 municipality: str | None = None, window: tuple[str, str] | None = None,
                 build_dir: str | Path | None = None, strict: bool = False, timeout: int = 600,
                 report_date: _date | None = None, echo: Callable[[str], None] | None = None,
                 pdf: bool = True) -> list[Path]:
    """Write ``OUT/report.html`` and ``OUT/report.pdf`` from the protected tables in ``OUT/tables``.

    ``lang``: 'nl' (default) or 'en'. ``manifest``: what the run knows about itself (``seed``,
    ``inputs`` {name: {file, sha256, bytes}}, ``versions``, ``settings``, ``simulated``); shown in
    the data chapter. ``municipality`` and ``window`` ('YYYY-MM-DD', 'YYYY-MM-DD') go on the title
    page. ``build_dir``: keep the executed notebooks, figures and typst source there (default: a
    temporary folder, removed afterwards). ``strict``: fail on the first part that cannot be made
    (default: note it in the report and go on). ``pdf=False``: the HTML only (no typst run).
    ``report_date`` (default today): the date on the title page and the PDF's timestamp; the same
    tables, context and date give the same bytes.
    Returns ``[report.html, report.pdf]`` (``[report.html]`` without the PDF). Several languages
    at once, into ``report.html`` and ``report.<lang>.html``: :func:`write_reports`.
    """
    lang = check_language(lang)
    return write_reports(out, [lang], primary=lang, manifest=manifest, municipality=municipality, window=window,
                         build_dir=build_dir, strict=strict, timeout=timeout, report_date=report_date,
                         echo=echo, pdf=pdf)[lang]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.Timestamp | _date):
        return value.isoformat()[:10]
    if isinstance(value, np.generic):
        return value.item()
    return value
