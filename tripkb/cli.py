"""The ``tripkb`` command: parse options, make one library call, render the result."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Optional

import typer

from .errors import TripkbError

app = typer.Typer(
    help="A knowledge base of official trip reports (公務出國報告), conference papers and posters, "
         "with Chinese full-text search.\n\nThe knowledge base is --kb DIR, else $TRIPKB_HOME, "
         "else the current directory.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _kb(ctx: typer.Context, create: bool = False):
    from .kb import KnowledgeBase

    return KnowledgeBase.locate(ctx.obj.get("kb"), create=create)


def _ocr_mode(flag: Optional[bool]) -> str:
    return "auto" if flag is None else ("force" if flag else "off")


OCR_HELP = ("OCR every PDF page (--ocr) or none (--no-ocr). Default: OCR pages without usable text "
            "when Tesseract is installed.")


def _friendly(fn):
    """Typed library errors become one 'Error: …' line on stderr and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from . import render

        try:
            return fn(*args, **kwargs)
        except TripkbError as exc:
            render.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            render.error("interrupted")
            raise typer.Exit(130) from None

    return wrapper


@app.callback()
def main_options(
    ctx: typer.Context,
    kb: Optional[Path] = typer.Option(None, "--kb", metavar="DIR",
                                      help="Knowledge base folder (default: $TRIPKB_HOME or the current directory)."),
) -> None:
    ctx.obj = {"kb": kb}


@app.command()
@_friendly
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., metavar="PATH...",
                                       help="PDF, .docx or .doc files, sidecars, or folders (searched recursively)."),
    ocr: Optional[bool] = typer.Option(None, "--ocr/--no-ocr", help=OCR_HELP),
) -> None:
    """Copy documents into corpus/, write or complete their YAML sidecars, and index them.

    Originals are never changed. Files already in the knowledge base (same SHA-256) are
    skipped. A file that cannot be read is named with the reason; the rest is still
    ingested and the exit code is 1. Scanned pages are OCRed with Tesseract when it is
    installed; without it they are kept, flagged, and indexed from their metadata
    ('tripkb doctor' says what is installed).

    Examples:

        tripkb ingest ~/reports/2009-IFLA.pdf

        tripkb --kb ~/tripkb ingest ~/reports/
    """
    from . import render
    from .ingest import ingest as run

    with render.progress_bar("Ingesting") as progress:
        report = run(_kb(ctx, create=True), paths, progress, _ocr_mode(ocr))
    for message in report.warnings:
        render.warning(message)
    for problem in (report.synced.problems if report.synced else []) + report.problems:
        render.error(str(problem))
    render.ingest_summary(report)
    if report.problems or (report.synced and report.synced.problems):
        raise typer.Exit(1)


@app.command()
@_friendly
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="Words or phrases; \"quotes\" for a phrase, OR, -word to exclude, field:word."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts)."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Show at most N documents."),
    type_: Optional[str] = typer.Option(None, "--type", help="report, paper, poster, slides or other."),
    institution: Optional[str] = typer.Option(None, "--institution", help="Reporting institution, e.g. 國家圖書館."),
    org: Optional[str] = typer.Option(None, "--org", help="Organisation or conference code, e.g. IFLA."),
    country: Optional[str] = typer.Option(None, "--country", help="Destination country, e.g. 美國."),
    region: Optional[str] = typer.Option(None, "--region", help="Destination region, e.g. 歐洲地區."),
    category: Optional[str] = typer.Option(None, "--category", help="Trip category, e.g. 開會."),
    since: Optional[int] = typer.Option(None, "--since", metavar="YEAR", help="Only documents from YEAR on."),
    until: Optional[int] = typer.Option(None, "--until", metavar="YEAR", help="Only documents up to YEAR."),
) -> None:
    """Full-text search in Traditional or Simplified Chinese and English.

    Every document that contains the query literally is found, in either script
    (图书馆 finds 圖書館, 台北 finds 臺北). The first search builds the index.

    Examples:

        tripkb search 國際圖書館協會聯盟 --org IFLA --since 2005

        tripkb search '"annual conference" OR 年會' --json
    """
    from . import render
    from .search import Filters, search as run

    filters = Filters(type=type_, institution=institution, org=org, country=country,
                      region=region, category=category, since=since, until=until)
    with render.progress_bar("Indexing") as progress:
        result = run(_kb(ctx), query, filters, limit, progress)
    for problem in result.problems:
        render.warning(str(problem))
    if as_json:
        render.print_json(result.to_json())
    else:
        render.search_result(result, query)


@app.command()
@_friendly
def show(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID", help="The document's id, e.g. C09601649."),
    as_json: bool = typer.Option(False, "--json", help="Print the record and first page as JSON."),
) -> None:
    """Print a document's record and the text of its first page.

    Example:

        tripkb show C09601649
    """
    from . import render
    from .search import get

    with render.progress_bar("Indexing") as progress:
        doc = get(_kb(ctx), doc_id, progress)
    pages = doc.pages()
    first = pages[0] if pages else ""
    if as_json:
        render.print_json({"record": doc.record, "file": doc.file, "first_page": first if doc.file else None})
    else:
        render.record(doc, first)


@app.command()
@_friendly
def reindex(ctx: typer.Context,
            ocr: Optional[bool] = typer.Option(None, "--ocr/--no-ocr", help=OCR_HELP)) -> None:
    """Rebuild the index from corpus/ alone (the old index is replaced only when the new one is complete).

    Also what to run after installing Tesseract or antiword: documents flagged for
    lack of them become searchable.
    """
    from . import render
    from .indexer import sync

    with render.progress_bar("Indexing") as progress:
        report = sync(_kb(ctx), progress, rebuild=True, ocr=_ocr_mode(ocr))
    for message in report.warnings:
        render.warning(message)
    for problem in report.problems:
        render.error(str(problem))
    render.sync_summary(report)
    if report.problems:
        raise typer.Exit(1)


@app.command()
@_friendly
def verify(ctx: typer.Context) -> None:
    """Check every file against its sidecar's SHA-256, every sidecar against the index, and back.

    Prints one line per mismatch or orphan and exits 1 if there is any; changes nothing.
    """
    from . import render
    from .verify import verify as run

    with render.progress_bar("Verifying") as progress:
        report = run(_kb(ctx), progress)
    for problem in report.problems:
        render.error(str(problem))
    render.out.print(f"Verified {report.checked} documents: "
                     + (f"{len(report.problems)} problems." if report.problems else "all consistent."))
    if report.problems:
        raise typer.Exit(1)


@app.command()
@_friendly
def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts).")) -> None:
    """Say which optional programs and packages are installed and what each missing one disables.

    Needs no knowledge base.
    """
    from . import render
    from .doctor import check, formats

    components = check()
    if as_json:
        render.print_json({"formats": formats(components), "components": [c.to_json() for c in components]})
    else:
        render.doctor(components, formats(components))


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app(prog_name="tripkb")
