"""The ``tripkb`` command: parse options, make one library call, render the result."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core

from .errors import TripkbError, UsageError
from .output import print_json

app = typer.Typer(
    pretty_exceptions_enable=False,
    help="A knowledge base of official trip reports (公務出國報告), conference papers and posters, "
         "with Chinese full-text search.\n\nThe knowledge base is --kb DIR, else $TRIPKB_HOME, "
         "else the current directory.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# The filters of search, stats, export and cite (docs/contracts.md §3), declared once.
QueryOpt = Annotated[Optional[str], typer.Option(
    "--query", "-q", help="Only documents that 'tripkb search' finds for this query.")]
TypeOpt = Annotated[Optional[str], typer.Option("--type", help="report, paper, poster, slides or other.")]
InstitutionOpt = Annotated[Optional[str], typer.Option("--institution", help="Reporting institution, any of its names, e.g. 國家圖書館.")]
OrgOpt = Annotated[Optional[str], typer.Option("--org", help="Organisation or conference, code or name, e.g. IFLA.")]
CountryOpt = Annotated[Optional[str], typer.Option("--country", help="Destination country, e.g. 美國.")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", help="Destination region, e.g. 歐洲地區.")]
CategoryOpt = Annotated[Optional[str], typer.Option("--category", help="Trip category, e.g. 開會.")]
SinceOpt = Annotated[Optional[int], typer.Option("--since", metavar="YEAR", help="Only documents from YEAR on.")]
UntilOpt = Annotated[Optional[int], typer.Option("--until", metavar="YEAR", help="Only documents up to YEAR.")]
SectorOpt = Annotated[Optional[str], typer.Option(
    "--sector", metavar="SECTOR", help="library: institutions that are libraries, library schools, library "
                                       "associations or archives (by the vocabularies, else by name); other: the rest.")]


def _kb(ctx: typer.Context, create: bool = False):
    from .kb import KnowledgeBase

    return KnowledgeBase.locate(ctx.obj.get("kb"), create=create)


def _ocr_mode(flag: Optional[bool]) -> str:
    return "auto" if flag is None else ("force" if flag else "off")


OCR_HELP = ("OCR every PDF page (--ocr) or none (--no-ocr). Default: OCR pages without usable text "
            "when Tesseract is installed.")


def _error(message: str) -> None:
    from . import render  # only on an error: a --json lookup that succeeds loads no rich

    render.error(message)


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator:
    """``render.progress_bar``, entered (and rich loaded) only once there is more than one item
    to show: a lookup on an index that is up to date loads no rich."""
    with contextlib.ExitStack() as stack:
        bar = None

        def update(done: int, total: int, item: str) -> None:
            nonlocal bar
            if bar is None and total > 1:
                from . import render

                bar = stack.enter_context(render.progress_bar(label))
            if bar is not None:
                bar(done, total, item)

        yield update


def _friendly(fn):
    """Typed library errors become one 'Error: …' line on stderr and their exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except TripkbError as exc:
            _error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            _error("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort):
            raise
        except OSError as exc:  # disk full, permissions…: the OS's own words, with the file
            where = f"{exc.filename}: " if exc.filename else ""
            _error(f"{where}{exc.strerror or exc}")
            raise typer.Exit(1) from None
        except Exception as exc:
            if os.environ.get("TRIPKB_DEBUG"):
                raise
            _error(f"unexpected internal error ({type(exc).__name__}: {exc}); "
                   "please report it, with the output of the same command run with TRIPKB_DEBUG=1")
            raise typer.Exit(1) from None

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
                                       help="PDF, .docx or .doc files, sidecars, bundles (.tar.gz), "
                                            "or folders (searched recursively)."),
    ocr: Optional[bool] = typer.Option(None, "--ocr/--no-ocr", help=OCR_HELP),
    extractor: Optional[str] = typer.Option(None, "--extractor", metavar="ENGINE",
                                            help="auto (default: pypdfium2 when installed), pypdf or pypdfium2."),
    cluster: Optional[str] = typer.Option(None, "--cluster", metavar="ADDRESS",
                                          help="Read the documents on the Dask cluster whose scheduler is at ADDRESS, "
                                               "e.g. tcp://10.0.0.5:8786 (needs tripkb\\[cluster]; see docs/cluster.md)."),
    dask_workers: Optional[int] = typer.Option(None, "--workers", metavar="N", min=1,
                                               help="Read the documents on N Dask worker processes started on this "
                                                    "machine (needs tripkb\\[cluster])."),
) -> None:
    """Copy documents into corpus/, write or complete their YAML sidecars, and index them.

    Originals are never changed. Files already in the knowledge base (same SHA-256) are
    skipped. A file that cannot be read is named with the reason; the rest is still
    ingested and the exit code is 1. Scanned pages are OCRed with Tesseract when it is
    installed; without it they are kept, flagged, and indexed from their metadata
    ('tripkb doctor' says what is installed).

    A bundle made by 'tripkb export --bundle' is checked member by member and
    against its checksums; its documents are copied as they are. Documents already
    present are skipped; a document whose id is taken by different content is
    reported as a conflict and never overwrites anything.

    Examples:

        tripkb ingest ~/reports/2009-IFLA.pdf

        tripkb --kb ~/tripkb ingest ~/reports/ ncl-2009.tar.gz

        tripkb ingest --cluster tcp://10.0.0.5:8786 /archive/scans/
    """
    from .ingest.read_ahead import reading_ahead

    if cluster is not None and dask_workers is not None:
        raise UsageError("give --cluster ADDRESS or --workers N, not both")
    kb = _kb(ctx, create=True)
    # Started before the imports below, so that the idle core reads while this one gets ready.
    with reading_ahead(paths, extractor, _ocr_mode(ocr), cluster is not None or dask_workers is not None) as ahead:
        from . import render
        from .ingest.documents import ingest as run

        with render.progress_bar("Ingesting") as progress:
            report = run(kb, paths, progress, extractor=extractor, ocr=_ocr_mode(ocr),
                         cluster=cluster, cluster_workers=dask_workers, ahead=ahead)
    for message in report.warnings + (report.synced.warnings if report.synced else []):
        render.warning(message)
    for problem in (report.synced.problems if report.synced else []) + report.problems:
        render.error(str(problem))
    render.ingest_summary(report)
    if report.problems or (report.synced and report.synced.problems):
        raise typer.Exit(1)


class _QueryCommand(typer.core.TyperCommand):
    """A command whose arguments are all query words, options aside: ``search 年會 海報展``
    is one query, and ``-IFLA`` (not an option) excludes IFLA instead of failing."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        options = {o: p for p in self.get_params(ctx) for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
        front: list[str] = []
        words: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                words.extend(rest)
                break
            option = options.get(arg.split("=", 1)[0])
            if option is None and arg[:2] in options and arg[2:].isdigit():  # -n5
                option = options[arg[:2]]
            if option is None and arg.startswith("--") and len(arg) > 2:
                name = arg.split("=", 1)[0]
                ctx.fail(f"No such option: {name} (to search for text that begins with '-', "
                         f"put the query after --: tripkb search -- {arg})")
            if option is None:
                words.append(arg)
                continue
            front.append(arg)
            if not option.is_flag and not option.count and "=" not in arg and arg in options:
                front.append(next(rest, ""))
        return super().parse_args(ctx, [*front, "--", *words])


@app.command(cls=_QueryCommand)
@_friendly
def search(
    ctx: typer.Context,
    query: list[str] = typer.Argument(..., metavar="QUERY...",
                                      help="Words or phrases; \"quotes\" for a phrase, OR, -word to exclude, "
                                           "field:word. Several arguments are one query."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts)."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Show at most N documents."),
    type_: TypeOpt = None, institution: InstitutionOpt = None, org: OrgOpt = None, country: CountryOpt = None,
    region: RegionOpt = None, category: CategoryOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    sector: SectorOpt = None,
    no_refresh: bool = typer.Option(False, "--no-refresh",
                                    help="Search the index as it is, without first looking for changes in corpus/ "
                                         "(for scripts running many lookups after an ingest)."),
    section: Optional[str] = typer.Option(
        None, "--section", metavar="NAME",
        help="Only documents whose section NAME (建議, 目的, 過程, 心得 …) holds the query; pages and snippet "
             "from it. Also section:NAME in the query."),
) -> None:
    """Full-text search in Traditional or Simplified Chinese and English.

    Every document that contains the query literally is found, in either script
    (图书馆 finds 圖書館, 台北 finds 臺北). The first search builds the index;
    each search first indexes what changed in corpus/ (unless --no-refresh).

    Examples:

        tripkb search 國際圖書館協會聯盟 --org IFLA --since 2005

        tripkb search '"annual conference" OR 年會' --json

        tripkb search 年會 海報展 -IFLA

        tripkb search 數位保存 --section 建議

        tripkb search 數位典藏 --sector library --since 2005
    """
    from .query.search import Filters, search as run

    filters = Filters(type=type_, institution=institution, org=org, country=country,
                      region=region, category=category, since=since, until=until, sector=sector, section=section)
    query = " ".join(query)
    with _progress_bar("Indexing") as progress:
        result = run(_kb(ctx), query, filters, limit, progress, fresh=not no_refresh)
    if result.problems or not as_json:
        from . import render

        for problem in result.problems:
            render.warning(str(problem))
    if as_json:
        print_json(result.to_json())
    else:
        render.search_result(result, query)


@app.command()
@_friendly
def shell(
    ctx: typer.Context,
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Show at most N documents a query (a line's "
                                                                 "own --limit wins)."),
    no_history: bool = typer.Option(False, "--no-history", help="Keep no history of the lines typed."),
) -> None:
    """Search many times in a row, the index kept open: each line is a query.

    A line is what follows 'tripkb search': words, "a phrase", OR, -word,
    field:word, and the same filters (--org IFLA --since 2005 --limit 5).
    Tab completes organisation, institution and country names, options and
    field names; the arrow keys recall earlier lines (kept in
    ~/.local/share/tripkb/shell_history). :help shows this; :quit or Ctrl-D leaves.

    Examples:

        tripkb shell

        tripkb --kb ~/trips shell --limit 5
    """
    from . import render
    from .query.search import QUERY_FIELDS
    from .query.session import COMMANDS, FILTER_OPTIONS, LIMIT_OPTIONS, Session, completions, history_file, parse_line

    kb = _kb(ctx)
    history = None
    if not no_history:
        try:
            history = history_file()
        except UsageError as exc:
            render.warning(str(exc))
    with Session(kb) as session:
        vocab = session.vocabulary()
        read_line = render.shell_prompt(history, lambda before: completions(vocab, before))
        render.shell_intro(kb.root, COMMANDS)
        while True:
            try:
                line = parse_line(read_line(), limit)
                if line is None:
                    continue
                if line.command == ":quit":
                    break
                if line.command == ":help":
                    render.shell_help(FILTER_OPTIONS + LIMIT_OPTIONS, QUERY_FIELDS, COMMANDS)
                    continue
                with _progress_bar("Indexing") as progress:
                    result = session.search(line, progress)
                for problem in result.problems:
                    render.warning(str(problem))
                render.search_result(result, line.query)
            except EOFError:
                break
            except KeyboardInterrupt:  # Ctrl-C clears the line, as in a shell
                continue
            except TripkbError as exc:
                render.error(str(exc))
            except OSError as exc:
                render.error(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")


@app.command()
@_friendly
def show(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID", help="The document's id, e.g. C09601649."),
    as_json: bool = typer.Option(False, "--json", help="Print the record and first page as JSON."),
    section: Optional[str] = typer.Option(
        None, "--section", metavar="NAME",
        help="Print this section's text instead (目的, 過程, 心得, 建議, 摘要, 附錄 …; 建議 includes 心得及建議)."),
) -> None:
    """Print a document's record, its outline (sections with pages) and the text of its first page.

    The outline is recognised from the text; a 'sections:' list in the sidecar replaces it.

    Examples:

        tripkb show EX0960001

        tripkb show EX0960001 --section 建議
    """
    from . import render
    from .query.outline import given, outline, read_section
    from .query.search import get

    with render.progress_bar("Indexing") as progress:
        doc = get(_kb(ctx), doc_id, progress)
    if section is not None:
        texts = read_section(doc, section)
        if as_json:
            print_json({"id": doc.record.get("id"), "sections": [t.to_json() for t in texts]})
        else:
            render.section_texts(texts)
        return
    pages = doc.pages()
    first = pages[0] if pages else ""
    sections = outline(doc)
    if as_json:
        print_json({"record": doc.record, "file": doc.file, "first_page": first if doc.file else None,
                    "sections": [s.to_json() for s in sections],
                    "sections_from": "sidecar" if given(doc) else "text"})
    else:
        render.record(doc, first)
        render.outline(sections, given(doc))


@app.command()
@_friendly
def similar(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., metavar="ID", help="The report to find others like, e.g. EX0980003."),
    limit: int = typer.Option(10, "--limit", "-n", min=1, help="Show at most N reports."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts)."),
) -> None:
    """The reports most like this one, by their text and metadata, each with the reason it was chosen.

    Text similarity is Whoosh's more-like-this (the report's key terms); the same
    organisation, country, keywords and institution add to it.

    Examples:

        tripkb similar EX0980003

        tripkb similar EX0980003 --limit 3 --json
    """
    from . import render
    from .query.similar import similar as run

    with render.progress_bar("Indexing") as progress:
        result = run(_kb(ctx), doc_id, limit, progress)
    if as_json:
        print_json(result.to_json())
    else:
        render.similar_result(result)


@app.command()
@_friendly
def brief(
    ctx: typer.Context,
    query: Optional[str] = typer.Argument(None, metavar="[QUERY]", help="Only the reports this query finds."),
    type_: TypeOpt = None, institution: InstitutionOpt = None, org: OrgOpt = None, country: CountryOpt = None,
    region: RegionOpt = None, category: CategoryOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    sector: SectorOpt = None,
    city: Optional[str] = typer.Option(None, "--city", help="Only reports that name this city, e.g. 米蘭."),
    markdown: Optional[Path] = typer.Option(None, "--markdown", metavar="FILE",
                                            help="Write the brief as Markdown to FILE (to share)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts)."),
) -> None:
    """One page to read before a trip: the trips before it, who went, what they visited and recommended.

    Trips newest first; travellers by institution (people to ask); the institutions the
    reports' 過程 sections name; each report's 建議 points with id and page; the most
    characteristic terms. Catalogue records count in the trips and travellers.

    Examples:

        tripkb brief --org IFLA

        tripkb brief 古籍 --country 義大利 --markdown brief.md

        tripkb brief --org ALA --since 2010 --json
    """
    from . import render
    from .fsutil import write_text_atomic
    from .query.brief import brief as run, markdown as as_markdown
    from .query.search import Filters

    filters = Filters(type=type_, institution=institution, org=org, country=country,
                      region=region, category=category, since=since, until=until, sector=sector)
    with render.progress_bar("Indexing") as progress:
        result = run(_kb(ctx), query, filters, city, progress)
    if markdown is not None:
        write_text_atomic(markdown, as_markdown(result))
        render.export_summary(len(result.trips), "trip brief, Markdown", str(markdown))
    elif as_json:
        print_json(result.to_json())
    else:
        render.brief(result)


@app.command()
@_friendly
def stats(
    ctx: typer.Context,
    by: Optional[list[str]] = typer.Option(None, "--by", metavar="FIELD",
                                           help="year, institution, region, org, category, type or country; "
                                                "twice for a cross-tab (rows × columns)."),
    count: str = typer.Option("documents", "--count", metavar="WHAT",
                              help="documents, or participants (sums each document's number of travellers)."),
    top: Optional[int] = typer.Option(None, "--top", metavar="N",
                                      help="Keep the N largest values of each field but year; fold the rest into 其他."),
    historical: bool = typer.Option(False, "--historical",
                                    help="Name each institution as it was called that year (國立臺中圖書館 before 2013)."),
    query: Optional[str] = typer.Option(None, "--query", "-q", metavar="TEXT",
                                        help="Count only the documents this search query finds."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV: one line per non-zero cell (for spreadsheets)."),
    chart: bool = typer.Option(False, "--chart", help="Draw a bar chart, or a trend over the years for FIELD × year."),
    type_: TypeOpt = None, institution: InstitutionOpt = None, org: OrgOpt = None, country: CountryOpt = None,
    region: RegionOpt = None, category: CategoryOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    sector: SectorOpt = None,
) -> None:
    """Count documents (or participants) by year, institution, region, org, category, type or country.

    One --by gives a ranked table with shares; two give a cross-tab with totals on
    both margins (the first field down, the second across). A document with two
    countries or two events counts under each. Institutions count under their
    current name (a renamed agency under its new one) unless --historical is given;
    --sector library counts only libraries, library schools and archives.

    Examples:

        tripkb stats --by institution --by year --top 3

        tripkb stats --query 圖書館 --by year --by region --since 2000

        tripkb stats --by year --by org --count participants --chart

        tripkb stats --sector library --by institution --by year
    """
    from . import render
    from .errors import UsageError
    from .query.search import Filters
    from .query.stats import check_by, check_chart, stats as run

    if as_json + as_csv + chart > 1:
        raise UsageError("choose one of --json, --csv and --chart")
    fields = check_by(by or [])
    if chart:
        check_chart(fields)
    filters = Filters(type=type_, institution=institution, org=org, country=country,
                      region=region, category=category, since=since, until=until, sector=sector)
    with render.progress_bar("Indexing") as progress:
        result = run(_kb(ctx), fields, filters, query, count, top, historical, progress)
    for problem in result.problems:
        render.warning(str(problem))
    if as_json:
        print_json(result.to_json())
    elif as_csv:
        render.print_csv(result.to_csv())
    elif chart:
        render.stats_chart(result)
    else:
        render.stats_result(result)


@app.command()
@_friendly
def reindex(
    ctx: typer.Context,
    ocr: Optional[bool] = typer.Option(None, "--ocr/--no-ocr", help=OCR_HELP),
    extractor: Optional[str] = typer.Option(None, "--extractor", metavar="ENGINE",
                                            help="auto (default: pypdfium2 when installed), pypdf or pypdfium2."),
) -> None:
    """Rebuild the index from corpus/ alone (the old index is replaced only when the new one is complete).

    Also what to run after installing Tesseract or antiword: documents flagged for
    lack of them become searchable.
    """
    from . import render
    from .index.sync import sync

    with render.progress_bar("Indexing") as progress:
        report = sync(_kb(ctx), progress, rebuild=True, extractor=extractor, ocr=_ocr_mode(ocr))
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
    from .index.integrity import verify as run

    with render.progress_bar("Verifying") as progress:
        report = run(_kb(ctx), progress)
    for problem in report.problems:
        render.error(str(problem))
    n = len(report.problems)
    render.out.print(f"Verified {report.checked} documents: "
                     + (f"{n} problem{'s' if n > 1 else ''}." if n else "all consistent."))
    if report.problems:
        raise typer.Exit(1)


meta_app = typer.Typer(help="Sidecar metadata: check it, or read it again from the documents.",
                       no_args_is_help=True)
app.add_typer(meta_app, name="meta")


@meta_app.command("check")
@_friendly
def meta_check(ctx: typer.Context) -> None:
    """Check every sidecar against the schema and the vocabularies (organisations, countries,
    regions, categories) and for ids used twice.

    Prints one 'file:line: key: problem' line per problem and exits 1 if there is any;
    changes nothing.
    """
    from . import render
    from .meta.validate import check_kb

    with render.progress_bar("Checking") as progress:
        report = check_kb(_kb(ctx), progress)
    for message in report.warnings:
        render.warning(message)
    render.check_result(report)
    if report.problems:
        raise typer.Exit(1)


@meta_app.command("extract")
@_friendly
def meta_extract(
    ctx: typer.Context,
    ids: Optional[list[str]] = typer.Argument(None, metavar="[ID]...", help="Documents to re-read (default: all)."),
) -> None:
    """Read the documents' cover pages and 摘要 again and refresh the fields tripkb filled in.

    A field a person typed or edited is never changed: the sidecar's 'extracted:' entry
    records each value tripkb wrote, and only a value still equal to it is refreshed.
    """
    from . import render
    from .ingest.documents import reextract

    with render.progress_bar("Reading") as progress:
        report = reextract(_kb(ctx), ids, progress)
    for problem in report.problems + (report.synced.problems if report.synced else []):
        render.error(str(problem))
    render.extract_summary(report)
    if report.problems or (report.synced and report.synced.problems):
        raise typer.Exit(1)


@app.command("import-csv")
@_friendly
def import_csv(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", help="Catalogue export: CSV, one row per report."),
    encoding: str = typer.Option("auto", "--encoding", help="auto (UTF-8, else Big5), utf-8 or big5."),
    maps: Optional[list[str]] = typer.Option(None, "--map", metavar="COL=FIELD",
                                             help="Read column COL as sidecar field FIELD (empty FIELD: skip COL). Repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts); problems still go to stderr."),
) -> None:
    """Import a catalogue as metadata-only records: corpus/<id>.yaml per row, indexed at once.

    Known columns: 系統識別號, 報告名稱, 計畫名稱, 服務機關, 主辦機關, 出國類別, 前往地區, 出國期間,
    報告日期, 關鍵詞, 摘要, 出國人員, 出國人數, 頁數, and the sidecar field names themselves.
    ROC dates are read. A row with a problem is named (row number and line) and skipped,
    the rest imported, and the exit code is 1. Records whose id is already in the
    knowledge base are left as they are.

    Examples:

        tripkb import-csv reports.csv

        tripkb import-csv old.csv --encoding big5 --map 計畫編號=id --map 備註=

        tripkb import-csv nightly.csv --json
    """
    from . import render
    from .ingest.catalogue import import_csv as run, parse_mapping

    mapping = parse_mapping(maps or [])
    with render.progress_bar("Importing") as progress:
        report = run(_kb(ctx, create=True), file, encoding, mapping, progress)
    for message in report.warnings:
        render.warning(message)
    for problem in report.problems:
        render.error(str(problem))
    if report.refused > len(report.problems):
        render.error(f"{file}: {report.refused - len(report.problems)} more rows refused "
                     f"(only the first {len(report.problems)} are listed)")
    for problem in report.synced.problems if report.synced else []:
        render.error(str(problem))
    if as_json:
        print_json(report.to_json())
    else:
        render.import_summary(report)
    if report.problems or (report.synced and report.synced.problems):
        raise typer.Exit(1)




def _select(ctx: typer.Context, query: Optional[str], **filters):
    """Run a selection with a progress bar and show its problems; the caller sets the exit code."""
    from . import render
    from .query.search import Filters
    from .query.selection import select

    with render.progress_bar("Indexing") as progress:
        selection = select(_kb(ctx), query, Filters(**filters), progress)
    for problem in selection.problems:
        render.error(str(problem))
    return selection


@app.command()
@_friendly
def export(
    ctx: typer.Context,
    format_: Optional[str] = typer.Option(None, "--format", "-f", metavar="FORMAT",
                                          help="csv, jsonl, dc (Dublin Core in OAI-PMH XML), opensearch, "
                                               "marc (MARC 21, ISO 2709), marcxml, ris or csl-json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="PATH",
                                          help="File to write (default: standard output); a folder for opensearch."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", metavar="FILE.tar.gz",
                                          help="Pack the documents, sidecars and a checksum manifest instead."),
    bom: bool = typer.Option(False, "--bom", help="Start the CSV with a UTF-8 byte-order mark (for Excel)."),
    query: QueryOpt = None, type_: TypeOpt = None, institution: InstitutionOpt = None, org: OrgOpt = None,
    country: CountryOpt = None, region: RegionOpt = None, category: CategoryOpt = None,
    since: SinceOpt = None, until: UntilOpt = None, sector: SectorOpt = None,
) -> None:
    """Export the records of the whole knowledge base, or of a selection, for other systems.

    csv and jsonl hold every metadata field, one document per row or line; dc is
    Dublin Core (oai_dc) for library catalogues and harvesters; opensearch writes
    bulk.ndjson and mapping.json into a folder for an OpenSearch/Elasticsearch
    cluster (see docs/opensearch.md). marc (ISO 2709 .mrc) and marcxml are MARC 21
    records for a library catalogue; ris (EndNote, Zotero) and csl-json (Zotero,
    Pandoc) are for reference managers (see docs/exports-library.md). --bundle
    packs the files themselves for 'tripkb ingest' in another knowledge base.

    Examples:

        tripkb export --format csv --bom -o reports.csv

        tripkb export --format jsonl --type paper -o papers.jsonl

        tripkb export --format dc --org IFLA --since 2005 -o ifla.xml

        tripkb export --format opensearch -o cluster/

        tripkb export --format marc --institution 國家圖書館 -o ncl.mrc

        tripkb export --format marcxml --since 2009 -o reports-marc.xml

        tripkb export --format ris --org ALA -o ala.ris

        tripkb export --format csl-json -q 數位典藏 -o references.json

        tripkb export --format marc --sector library --since 2009 -o libraries.mrc

        tripkb export --bundle ncl-2009.tar.gz --institution 國家圖書館 --since 2009 --until 2009
    """
    from . import render
    from .export.records import FORMATS, check_format

    if format_ is None and bundle is None:
        raise UsageError(f"give --format {'|'.join(FORMATS)}, or --bundle FILE.tar.gz")
    if format_ is not None and bundle is not None:
        raise UsageError("--format and --bundle cannot be combined: a bundle holds the documents themselves")
    if bundle is not None and output is not None:
        raise UsageError("--output is for --format; a bundle is written to the --bundle file")
    if format_ is not None:
        check_format(format_)
    if bom and format_ != "csv":
        raise UsageError("--bom applies only to --format csv")
    if format_ == "opensearch" and output is None:
        raise UsageError("--format opensearch writes two files (bulk.ndjson and mapping.json): give --output DIR")
    if output is not None and format_ != "opensearch":
        _check_output_file(ctx, output)
    elif output is not None:
        from .export.opensearch import BULK_FILE, MAPPING_FILE

        _kb(ctx).check_output(output, folder=True)
        for name in (BULK_FILE, MAPPING_FILE):
            _kb(ctx).check_output(output / name)
    if bundle is not None:
        _kb(ctx).check_output(bundle)
    selection = _select(ctx, query, type=type_, institution=institution, org=org, country=country,
                        region=region, category=category, since=since, until=until, sector=sector)
    items, problems = selection.items, list(selection.problems)
    if bundle is not None:
        from .export.bundle import write_bundle

        packed, unpacked = write_bundle(_kb(ctx), items, bundle)
        for problem in unpacked:
            render.error(str(problem))
        problems += unpacked
        render.export_summary(packed, "bundle", str(bundle))
    else:
        from .export.records import write_format

        sys.stdout.flush()
        # To a terminal, records pass through the same escaping as everything else shown there.
        shown = io.BytesIO() if output is None and sys.stdout.isatty() else sys.stdout.buffer
        where, unwritten = write_format(items, format_, output, shown, bom, selection.vocab)
        if shown is not sys.stdout.buffer:
            render.terminal_text(shown.getvalue())
        for problem in unwritten:
            render.error(str(problem))
        problems += unwritten
        render.export_summary(len(items) - len(unwritten), format_, where)
    if problems:
        raise typer.Exit(1)


def _check_output_file(ctx: typer.Context, output: Path) -> None:
    if output.is_dir() and not output.is_symlink():
        raise UsageError(f"--output {output} is a folder; give a file name")
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: the folder {output.parent} does not exist")
    _kb(ctx).check_output(output)


@app.command()
@_friendly
def cite(
    ctx: typer.Context,
    doc_id: Optional[str] = typer.Argument(None, metavar="ID", help="The document's id, e.g. C09601649."),
    style: str = typer.Option("tw", "--style", help="tw (as Taiwanese LIS papers cite trip reports), apa, chicago "
                                                          "(author-date), or any CSL style name, e.g. harvard-cite-them-right."),
    all_: bool = typer.Option(False, "--all", help="A reference list of every document (or of the selection)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts): each reference with its id."),
    query: QueryOpt = None, type_: TypeOpt = None, institution: InstitutionOpt = None, org: OrgOpt = None,
    country: CountryOpt = None, region: RegionOpt = None, category: CategoryOpt = None,
    since: SinceOpt = None, until: UntilOpt = None, sector: SectorOpt = None,
) -> None:
    """Print a citation of a document, or with --all a reference list.

    The tw style is the form of the seed paper's footnotes:
    王文陸、彭慰，〈參加 2007 年美國圖書館學會年會報告〉，《OPEN 政府出版資料回應網公務出國報告》，C09601649。

    Examples:

        tripkb cite C09601649

        tripkb cite --all --org ALA --style apa

        tripkb cite EX0970003 --style chicago

        tripkb cite --all --sector library --since 2009 --json
    """
    from . import render
    from .export.cite import check_style, citations_json, reference_list
    from .query.selection import by_id

    check_style(style)
    narrowed = any(v is not None for v in (query, type_, institution, org, country, region, category, since, until,
                                           sector))
    if doc_id is None and not all_:
        raise UsageError("give a document ID, or --all for a reference list")
    if doc_id is not None and all_:
        raise UsageError("give a document ID or --all, not both")
    if doc_id is not None and narrowed:
        raise UsageError("--query and the filters choose documents for --all; they do not apply to one ID")
    if doc_id is not None:
        with render.progress_bar("Indexing") as progress:
            item = by_id(_kb(ctx), doc_id, progress)
        if as_json:
            print_json(citations_json([item.record], style))
        else:
            render.plain_lines(reference_list([item.record], style))
        return
    selection = _select(ctx, query, type=type_, institution=institution, org=org, country=country,
                        region=region, category=category, since=since, until=until, sector=sector)
    if not selection.items:
        render.warning("no documents match; the reference list is empty")
    records = [i.record for i in selection.items]
    if as_json:
        print_json(citations_json(records, style))
    else:
        render.plain_lines(reference_list(records, style))
    if selection.problems:
        raise typer.Exit(1)


@app.command()
@_friendly
def doctor(as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts).")) -> None:
    """Say which optional programs and packages are installed and what each missing one disables.

    Needs no knowledge base.
    """
    from . import render
    from .capabilities import check, formats

    components = check()
    if as_json:
        print_json({"formats": formats(components), "components": [c.to_json() for c in components]})
    else:
        render.doctor(components, formats(components))


def main() -> None:
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    from .index.whoosh_internals import lighter_imports
    from .stand_ins import deferred, module, stand_in_while_importing

    lighter_imports()
    # typer's help formatter imports these for markdown help and pretty tracebacks, which
    # tripkb's help does not use: with them, markdown-it and pygments (the stand-ins import
    # the real classes if they are ever used).
    stand_in_while_importing("typer.rich_utils",
                             module("rich.markdown", Markdown=deferred("rich.markdown", "Markdown")),
                             module("rich.traceback", Traceback=deferred("rich.traceback", "Traceback")))
    try:
        app(prog_name="tripkb")
    except SystemExit as exc:
        _exit(exc.code)
    _exit(0)


def _exit(code: object) -> None:
    """Exit without the interpreter's teardown, which frees every object one by one: a
    tenth of a second or more after a lookup has printed its answer.

    Only when nothing can be lost: no other thread or child process is running, the
    atexit handlers have run and standard output and error are flushed; otherwise
    (or for an exit code that is not a number) Python exits as usual.
    """
    import atexit
    import threading

    children = "multiprocessing" in sys.modules and sys.modules["multiprocessing"].active_children()
    if not isinstance(code, (int, type(None))) or threading.active_count() > 1 or children:
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: Python's own exit reports it
        raise SystemExit(code) from None
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
