"""tripkb doctor: what is installed and what each missing piece disables."""

import json

from conftest import empty_path, run_cli


def test_doctor_lists_every_optional_piece():
    done = run_cli("doctor", "--json")
    assert done.returncode == 0
    report = json.loads(done.stdout)
    names = [c["name"] for c in report["components"]]
    assert names == ["tesseract", "tesseract chi_tra", "tesseract eng", "pytesseract", "pypdfium2",
                     "python-docx", "antiword"]
    assert report["formats"]["PDF with a text layer"] is True


def test_doctor_says_what_a_missing_program_disables_and_how_to_install_it(tmp_path):
    done = run_cli("doctor", path=empty_path(tmp_path))
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert "scanned PDF (OCR) no" in lines[0] and ".doc no" in lines[0]
    assert ("missing tesseract           no OCR: scanned PDFs are kept and flagged, not searchable — "
            "apt-get install tesseract-ocr tesseract-ocr-chi-tra") in lines
    assert ("missing antiword            .doc files are kept and flagged, not searchable — "
            "apt-get install antiword") in lines
