"""Page text: a document of any format becomes the text of each page.

PDFs by pypdf or pypdfium2, Word files by python-docx or antiword, scans and pages
without a usable text layer by Tesseract; each page's text is checked for being
usable, and normalised into the forms that are stored, indexed and searched.
"""
