"""Debian's tesseract behind the OcrEngine protocol, kept for comparison in the bench.

Not the default: on sroie-train it is faster than rapidocr but loses right-hand amounts
and headers (bench/README.md, "Local reader"). Needs the ``tesseract`` binary
(``apt-get install tesseract-ocr``); words are grouped into lines by tesseract's own
block/paragraph/line numbers.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess

from PIL import Image

from receiptlake.reader.ocr import OcrLine


class TesseractEngine:
    name = "tesseract"

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("tesseract")
        if found is None:
            raise RuntimeError("tesseract is not installed (apt-get install tesseract-ocr)")
        self.binary = found

    def read(self, image: Image.Image) -> list[OcrLine]:
        buffer = io.BytesIO()
        image.convert("L").save(buffer, "PNG")
        # OMP_THREAD_LIMIT=1: tesseract's OpenMP threads make it ~6x slower on 2 cores.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        out = subprocess.run(  # noqa: S603 - fixed binary from PATH, no shell, no user input
            [self.binary, "stdin", "stdout", "--psm", "4", "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            check=True,
            env=env,
        ).stdout.decode("utf-8", errors="replace")
        lines: dict[tuple[str, str, str], list[dict[str, str]]] = {}
        for row in csv.DictReader(io.StringIO(out), delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("level") == "5" and (row.get("text") or "").strip():
                key = (row["block_num"], row["par_num"], row["line_num"])
                lines.setdefault(key, []).append(row)
        result = []
        for words in lines.values():
            # Split a line where words are far apart: "TOTAL ........   9.00" is two cells,
            # as rapidocr would return it.
            cells: list[list[dict[str, str]]] = [[words[0]]]
            for word in words[1:]:
                prev = cells[-1][-1]
                gap = int(word["left"]) - (int(prev["left"]) + int(prev["width"]))
                if gap > 2.5 * int(prev["height"]):
                    cells.append([word])
                else:
                    cells[-1].append(word)
            for cell in cells:
                left = min(int(w["left"]) for w in cell)
                top = min(int(w["top"]) for w in cell)
                right = max(int(w["left"]) + int(w["width"]) for w in cell)
                bottom = max(int(w["top"]) + int(w["height"]) for w in cell)
                conf = sum(max(0.0, float(w["conf"])) for w in cell) / len(cell) / 100
                text = " ".join(w["text"] for w in cell)
                box = ((left, top), (right, top), (right, bottom), (left, bottom))
                result.append(OcrLine(text, conf, box))
        return result
