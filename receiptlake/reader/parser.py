"""OCR lines with boxes -> an AnalyzeExpense-shaped ExpenseDocument.

The output follows Amazon Textract's AnalyzeExpense response so the ingest normalizer
reads local and AWS results the same way:

- ``SummaryFields``: VENDOR_NAME, VENDOR_ADDRESS, VENDOR_PHONE, INVOICE_RECEIPT_DATE,
  SUBTOTAL, TAX, GRATUITY, DISCOUNT, TOTAL, AMOUNT_PAID, each at most once, with
  ``Type {Text, Confidence 0..100}``, ``LabelDetection`` when a printed label was used
  ("TOTAL:"), ``ValueDetection {Text, Confidence, Geometry}``, ``PageNumber``, and
  ``Currency {Code}`` on amounts when the receipt names one.
- **Vendor legal name convention**: the brand people know is the ``VENDOR_NAME`` field;
  when the receipt also prints a registered company name ("... SDN BHD", "LLC", "Ltd",
  "GmbH") it is emitted as a second field with ``Type.Text == "VENDOR_LEGAL_NAME"``
  (not a Textract type; Textract would say VENDOR_NAME twice, which loses which is
  which). When the registered name is the only name printed, it is both: VENDOR_NAME and
  VENDOR_LEGAL_NAME carry the same text. Normalizer: vendor.name <- VENDOR_NAME,
  vendor.legal_name <- VENDOR_LEGAL_NAME.
- ``INVOICE_RECEIPT_DATE`` value is the date as printed, cut from its time
  ("09/03/20184:21:23PM" -> "09/03/2018"); parse it with day_first from the currency.
- Amount values are the printed amount text ("RM 9.00", "3,10"); negative amounts keep
  their sign ("-0.02"); an amount printed without its leading zero gets it (".88" ->
  "0.88").
- ``LineItemGroups``: one group; each line item has ITEM, PRICE (the line's amount),
  QUANTITY and UNIT_PRICE when printed, and EXPENSE_ROW (the whole row's text).
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lambda_src.common.money import detect_currency
from receiptlake.reader.geometry import Placed, Row, group_rows, textract_geometry
from receiptlake.reader.ocr import OcrLine
from receiptlake.reader.text import (
    AMOUNT,
    DATE_TEXT,
    LEGAL_SUFFIX,
    PHONE,
    REGISTRATION,
    amounts,
    find_date,
    fix_legal_suffix,
    with_leading_zero,
)

# --- label vocabularies (matched on upper-case text with spaces collapsed) -------------

_SUBTOTAL = re.compile(r"\bSUB\s*-?\s*TOTAL|\bSUBTTL|\bTOTAL\s*\(?EXCL|\bTOTAL\s+EX\b|NET\s+SALES")
_NOT_TOTAL = re.compile(
    r"SAVING|\bQTY|QUANTITY|\bITEMS?\b|\bNO\.?\s*OF|DISCOUNT|\bDISC\b|\bGST\b(?!.*INCL)|"
    r"\bTAX\b(?!.*INCL)|EXCL|EXCLUDING|\bPOINTS?\b|\bTIPS?\b|\bWEIGHT|\bUNITS?\b|\bPCS\b|"
    r"\bCHANGE\b|\bSST\b|\bSR\b|\bZR\b|\bVAT\b(?!.*INCL)|TOTAL\s*(?:AMT\s*)?SAVED|\bCOUNT\b"
)
_TOTAL_STRONG = re.compile(
    r"ROUND(?:ED|ING)?\s*TOTAL|TOTAL\s*(?:AFTER\s*)?ROUND|TOTAL\s*\(?ROUND|NET+\s*TOTAL|"
    r"GRAND\s*TOTAL|TOTAL\s*(?:AMOUNT|AMT)?\s*(?:PAYABLE|DUE)|AMOUNT\s*DUE|BALANCE\s*DUE|"
    r"TOTAL\s*(?:SALES?|AMOUNT|AMT)?\s*\(?\s*INCL|TOTAL\s*INC\b|TOTAL\s*AMOUNT|TOTAL\s*AMT|"
    r"JUMLAH|TOTAL\s*SALES?|TOTAL\s*\w*\s*(?:RM|MYR|USD|EUR|SGD)\b|TOTAL\s*PAYMENT|"
    r"NETT?\s*AMOUNT|TOTAL\s*EUROS?|AMOUNT\s*PAYABLE|TOTAL\s*TO\s*PAY|TOTAL\s*DUE|"
    r"\bSUMME\b|\bTOTAL\s*TTC|PAYABLE|^\W*DUE\b|\bSALDO\b|ZU\s*ZAHLEN|\bGESAMT"
)
_TOTAL_WEAK = re.compile(r"T[O0D]TA[L1I]|\bTTL\b|\bTL\b|\bAMOUNT\b|\bAMT\b|\bBALANCE\b|\bTOT\b")
_ROUNDING = re.compile(r"\bROUND|ROUDING|ROUNDG|\bRNDG|\bADJ(?:USTMENT)?\b")
_TAX = re.compile(r"\bGST\b|\bTAX\b|\bVAT\b|\bSST\b|\bHST\b|\bPST\b|\bMWST\b|\bTVA\b|\bIVA\b")
_TAX_NOT = re.compile(r"INVOICE|\bID\b|\bREG|\bNO\b|SUMMARY|\bCODE|@|INCL|EXCL|%\s*$")
_TIP = re.compile(r"\bTIPS?\b|GRATUITY|SERVICE\s*(?:CHARGE|CHG)|\bSVC\b|\bS/?C\b")
_DISCOUNT = re.compile(r"DISCOUNT|\bDISC\b|\bSAVINGS?\b|\bPROMO|\bCOUPON|\bVOUCHER|\bLESS\b")
_PAID = re.compile(
    r"\bCASH\b|\bBAR\b|GEGEBEN|\bESPECES\b|\bEFECTIVO\b|TENDER|\bPAID\b|\bPAYMENT\b|\bVISA\b|MASTER|\bCARD\b|\bCREDIT\b|\bDEBIT\b|"
    r"\bAMEX\b|\bEFT|\bNETS\b|\bTEND\b|\bRECEIVED\b|E-?WALLET|\bBOOST\b|\bGRAB|^\W*PAY\b"
)
_CHANGE = re.compile(r"\bCHANGE\b|R[UÜ]CKGELD|\bRENDU\b|\bCHG\b|\bBALANCE\s*RETURN|\bKEMBALI")

# Lines at the top that are titles or boilerplate, never the vendor.
_NOT_NAME = re.compile(
    r"TAX\s*INVOICE|\bINVOICE\b|\bRECEIPT\b|\bWELCOME\b|\bTHANK|\bCASH\s*(?:BILL|SALE)|"
    r"\bGST\b|\bSST\b|\bREG\b|\bTEL\b|\bFAX\b|\bDATE\b|\bTIME\b|\bCOPY\b|\bORDER\b|\bTABLE\b|"
    r"\bBILL\b|\bCHECK\b|\bSERVER\b|\bCASHIER\b|\bSTORE\s*#|\bCUSTOMER\b|^\W*$|HTTP|WWW|@|"
    r"OWNED\s*BY|\bSIMPLIFIED\b|\bOFFICIAL\b|\bTRANS"
)
# Lines that end the address block.
_ADDRESS_STOP = re.compile(
    r"\bTEL\b|\bTEL[:.]|\bPHONE|\bFAX\b|\bH/?P\b|\bMOBILE|\bGST\b|\bSST\b|TAX\s*INVOICE|"
    r"\bINVOICE\b|\bRECEIPT\b|\bDATE\b|@|WWW\.|HTTP|\.COM\b|\bREG\b|\bREG\.|\bCO\.\s*NO|"
    r"\bCOMPANY\s*NO|\bBUSINESS\s*(?:REG|NO)|\bHOURS\b|\bOPEN(?:ING)?\b|\bCASHIER\b|"
    r"\bTABLE\b|\bORDER\b|\bCASH\b|\bBILL\b|\bDOC(?:UMENT)?\b|\bTERMINAL|\bPOS\b|"
    r"\bSTAFF\b|\bMEMBER\b|\bSALES?\s*PERSON|\bTHANK|\bWELCOME|\bQTY\b|\bITEM\b|\bE-?MAIL|"
    r"\bOWNED\s*BY|\bTRANS|"
    # the same words with one-character OCR slips ("1E1:", "GSI KEG", "COMPANY KE9 #")
    r"\b[T1][E3][L1I]\s*[:.]|\bGS[T1I]\s*(?:ID|RE|KE)|\bCOMPANY\b|#\s*\d{6,}"
)
_ADDRESS_WORD = re.compile(
    r"\bJALAN\b|\bJLN\b|\bJL\b|\bTAMAN\b|\bTMN\b|\bLOT\b|\bNO\b|\bNO\.|\bLORONG\b|\bPERSIARAN\b|"
    r"\bLEBUH\b|\bBATU\b|\bKAMPUNG\b|\bKG\b|\bBANDAR\b|\bBDR\b|\bSEKSYEN\b|\bBLOK\b|\bBLOCK\b|"
    r"\bFLOOR\b|\bFLR\b|\bLEVEL\b|\bLEVEL\b|\bSUITE\b|\bUNIT\b|\bPLAZA\b|\bMALL\b|\bCENTRE\b|"
    r"\bCENTER\b|\bSTREET\b|\bST\b|\bROAD\b|\bRD\b|\bAVE(?:NUE)?\b|\bBLVD\b|\bDRIVE\b|\bDR\b|"
    r"\bWAY\b|\bLANE\b|\bHIGHWAY\b|\bHWY\b|\bPARK\b|\bSQUARE\b|\bSTRASSE\b|\bPLATZ\b|"
    r"\bSELANGOR\b|\bKUALA\s*LUMPUR\b|\bJOHOR\b|\bPULAU\s*PINANG\b|\bPENANG\b|\bPERAK\b|"
    r"\bKEDAH\b|\bMELAKA\b|\bPAHANG\b|\bSABAH\b|\bSARAWAK\b|\bNEGERI\b|\bKELANTAN\b|"
    r"\bTERENGGANU\b|\bPERLIS\b|\bPUTRAJAYA\b|\bDARUL\b|\bMALAYSIA\b|\bSINGAPORE\b|"
    r"\bWILAYAH\b|\bPERSEKUTUAN\b|\bINDUSTRI|\bPERINDUSTRIAN\b|\bUSJ\b|\bSS\s?\d|,\s*$|,"
)
_POSTCODE = re.compile(r"(?<![\d-])\d{5}(?![\d-])|\b[A-Z]{2}\s+\d{5}\b|\b\d{4,6}\s+[A-Z]{3,}")
_STRICT_POSTCODE = re.compile(r"(?<![\d&/-])\d{5}(?![\d-])(?!\s*&)")
_STREET_NUMBER = re.compile(r"^\s*(?:NO\.?\s*\d|LOT\s|\d+[A-Z]?\s*[,&-]|\d{1,4}[A-Z]?\s+[A-Z])")

_HEADER_ROW = re.compile(
    r"\b(?:[QO0]TY|QUANTITY|DESC(?:RIPTION)?|ITEMS?|PRICE|AMOUNT|AMT|TOTAL|U/?P|RM|EXT|"
    # the same columns in Spanish, French, German, Italian and Dutch receipts
    r"CANT(?:IDAD)?|DESCRIPCI[OÓ]N|PRECIO|IMPORTE|ART[IÍ]CULO|QT[EÉ]|PRIX|D[EÉ]SIGNATION|MONTANT|"
    r"MENGE|BEZEICHNUNG|PREIS|BETRAG|ARTIKEL|QUANTIT[AÀ]|DESCRIZIONE|PREZZO|IMPORTO|AANT(?:AL)?|OMSCHRIJVING|"
    r"PRIJS|BEDRAG)\b"
)


# A whole amount: "69,000", "24.000", "1600", "80" (not "1": counts stand alone too).
_WHOLE_AMOUNT = re.compile(r"\d{1,3}(?:[,.]\d{3})+|\d{2,5}")


@dataclass
class _Field:
    kind: str
    value_text: str
    value_lines: list[OcrLine]
    confidence: float  # 0..1, the field's own (our rule's) confidence
    label_text: str | None = None
    label_lines: list[OcrLine] | None = None
    currency: str | None = None


def _upper(text: str) -> str:
    return re.sub(r"\s+", " ", text.upper()).strip()


def _ocr_conf(lines: Sequence[OcrLine]) -> float:
    return statistics.fmean(line.confidence for line in lines) if lines else 0.0


class _Page:
    """One page being read: its rows and where things are on it."""

    def __init__(self, lines: Sequence[OcrLine], width: int, height: int) -> None:
        self.rows = group_rows(lines)
        self.width = width
        self.height = height
        self.texts = [_upper(r.text) for r in self.rows]
        self.currency = detect_currency(" ".join(r.text for r in self.rows))
        self.row_amounts = [self._amount_cells(r) for r in self.rows]
        self._glued_tax_codes()
        self.whole_rows: set[int] = set()  # rows whose amount is a whole number
        self._integer_prices()

    def _glued_tax_codes(self) -> None:
        """A tax-class digit printed after each amount ("9,90 1") is read glued to it
        where the space was narrow ("12,001", "14,901"): when at least two amounts at the
        ends of rows carry the same digit, an amount with that digit glued on ending a row
        is that amount."""
        codes: dict[str, int] = {}
        for row in self.rows:
            m = re.search(r"\d[.,]\d{2}\s+(\d)\s*$", row.cells[-1].text)
            if m:
                codes[m.group(1)] = codes.get(m.group(1), 0) + 1
        for code, count in codes.items():
            if count < 2:
                continue
            glued = re.compile(rf"(.*?\s|)(-?[$€£]?\s?\d{{1,3}}(?:[.,]\d{{3}})*[.,]\d{{2}}){code}\s*")
            for i, row in enumerate(self.rows):
                last = row.cells[-1]
                m = glued.fullmatch(last.text)
                if m and not any(cell is last for _, cell, _ in self.row_amounts[i]):
                    found = amounts(m.group(2))
                    if found:
                        self.row_amounts[i].append((found[-1][0], last, m.group(2).strip()))

    def _integer_prices(self) -> None:
        """Receipts in currencies without cents print whole amounts ("Sop Buntut 69,000",
        "Calamari Steak 1600"). When a page has almost no amount with decimals but several
        rows end in a whole number at the right, those numbers are the rows' amounts."""

        # Summary rows may print cents where the items do not ("Sub Total 1774.00", "S.C.
        # 010% 177.00"): then the whole numbers must add up to an amount printed with cents
        # (the subtotal), and only rows that can be items count against whole amounts.
        def summary(i: int) -> bool:
            rest = AMOUNT.sub(" ", self.texts[i])
            return bool(_ITEM_SKIP.search(rest) or _TAX.search(rest) or _TIP.search(rest) or "%" in rest)

        priced = [i for i, found in enumerate(self.row_amounts) if found]
        if sum(1 for i in priced if not summary(i)) >= 2 or not self.rows:
            return
        sums = {v for i in priced for v, _, _ in self.row_amounts[i]} if len(priced) >= 2 else None
        left = min(c.x0 for r in self.rows for c in r.cells)
        right = max(c.x1 for r in self.rows for c in r.cells)
        found: dict[int, tuple[Decimal, Placed, str]] = {}
        for i, row in enumerate(self.rows):
            last = row.cells[-1]
            text = last.text.strip()
            if (
                len(row.cells) >= 2
                and last.x0 > left + 0.55 * (right - left)
                and _WHOLE_AMOUNT.fullmatch(text)
                and not DATE_TEXT.search(row.text)
            ):
                found[i] = (Decimal(re.sub(r"[,.]", "", text)), last, text)
        items_sum = sum(v for i, (v, _, _) in found.items() if not summary(i))
        if len(found) >= 3 and (sums is None or items_sum in sums):
            for i, cell in found.items():
                self.row_amounts[i] = [cell]
            self.whole_rows = set(found)

    @staticmethod
    def _amount_cells(row: Row) -> list[tuple[Decimal, Placed, str]]:
        """Amounts on a row, left to right, with the cell they are in and their text."""
        found = []
        for cell in row.cells:
            # ".80.00", ".270.00": a smudge before the amount read as a point.
            text = re.sub(r"^\.(?=\d{1,3}(?:,\d{3})*\.\d{2}\s*$)", "", cell.text.strip())
            dates = [m.span() for m in DATE_TEXT.finditer(text)]
            for value, match in amounts(text):
                if any(a < match.end() and match.start() < b for a, b in dates):
                    continue  # "MAY 08, 17", "10.07.13": part of a date
                found.append((value, cell, match.group(0).strip()))
        return found

    def label_values(self, index: int) -> list[tuple[str, Decimal, Placed, str]]:
        """(label, amount, cell, printed) pairs on row ``index``, left to right.

        Two-column summaries print two pairs on a row ("TOTAL SAVING 0.00  TOTAL 77.20");
        each label takes the last amount of the run of amounts that follows it. A label
        with no amount on its row takes the amount on the row below (a label printed above
        its amount) unless that row has a label of its own.
        """
        row = self.rows[index]
        pairs: list[tuple[str, Decimal, Placed, str]] = []
        label: list[str] = []
        run: list[tuple[Decimal, Placed, str]] = []
        for cell in row.cells:
            found = amounts(cell.text)
            rest = AMOUNT.sub(" ", cell.text).strip()
            if found and run and re.search(r"[A-Za-z]{2,}", rest) and rest == cell.text.strip()[: len(rest)]:
                # "ROUNDING 0.00" in one cell after an earlier pair: a new label starts.
                pairs.append((" ".join(label), *run[-1]))
                label, run = [], []
            if found:
                if rest and not run:
                    label.append(rest)
                for value, match in found:
                    run.append((value, cell, match.group(0).strip()))
            else:
                if run:
                    pairs.append((" ".join(label), *run[-1]))
                    label, run = [], []
                label.append(cell.text)
        if run:
            pairs.append((" ".join(label), *run[-1]))
        elif label and index + 1 < len(self.rows):
            below = self.texts[index + 1]
            if not re.search(r"[A-Z]{3,}", AMOUNT.sub("", below)) and self.row_amounts[index + 1]:
                pairs.append((" ".join(label), *self.row_amounts[index + 1][-1]))
        return [(_upper(lbl), v, c, t) for lbl, v, c, t in pairs]


def parse_page(lines: Sequence[OcrLine], width: int, height: int, page_number: int = 1) -> dict[str, Any]:
    """Summary fields and line items of one page, in AnalyzeExpense's shape."""
    page = _Page(lines, width, height)
    fields: list[_Field] = []
    fields += _vendor_fields(page)
    fields += _date_field(page)
    amounts_fields, summary_start = _amount_fields(page)
    fields += amounts_fields
    items = _line_items(page, summary_start)
    return {
        "SummaryFields": [_summary_json(f, page, page_number) for f in fields],
        "LineItemGroups": (
            [{"LineItemGroupIndex": 1, "LineItems": [_item_json(i, page, page_number) for i in items]}]
            if items
            else []
        ),
    }


# --- vendor ------------------------------------------------------------------------------


def _header_end(page: _Page) -> int:
    """Index of the first row past the receipt's header (the items or totals start)."""
    for i, text in enumerate(page.texts):
        # "NO.53 55,57 & 59, JALAN SAGU 18," holds a decimal-comma lookalike: an address
        # row does not end the header.
        rest = text
        for _, _, printed in page.row_amounts[i]:
            rest = rest.replace(printed.upper(), " ", 1)  # also "12,00" read out of "12,001"
        priced = bool(page.row_amounts[i]) and not (
            i not in page.whole_rows
            and all("." not in a[2] for a in page.row_amounts[i])
            and _ADDRESS_WORD.search(AMOUNT.sub(" ", rest).rstrip(", "))
            and i < 12
        )
        if i >= 3 and (priced or (_HEADER_ROW.search(text) and len(text) < 60)):
            return i
    return min(len(page.rows), 15)


def _is_registration(text: str) -> bool:
    return bool(REGISTRATION.search(text.strip())) and len(re.sub(r"[^A-Z]", "", text)) <= 12


def _strip_registration(text: str) -> str:
    """Cut a registration number and what follows it off a name:
    "GARDENIA BAKERIES (KL) SDN BHD (139386 X)" -> "GARDENIA BAKERIES (KL) SDN BHD",
    "KING'S CONFECTIONERY S/B 273500-U (KSB)" -> "KING'S CONFECTIONERY S/B"."""
    text = re.sub(
        r"\s*[(\[]?\s*(?:CO\.?\s*(?:REG\.?\s*)?(?:NO\.?)?\s*:?\s*)?\d[\d\s]{3,}[-\s]?[A-Z]?\s*[)\]]?"
        r"(?:\s*\(.{0,8}\))?[\s,.;]*$",
        "",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"\s+\d{5,}-?[A-Z](?:\s.{0,10})?$", "", text)
    # "OWNED BY: CHEF LEE SDN BHD", "#000002 BAIFU (M) SDN BHD": the name is what follows.
    text = re.sub(
        r"^\W*(?:OWNE?[DR]?|OPERATED|MANAGED)\s+BY\W*|^DIMILIKI(?:\s+OLEH)?\W*|^#\d+\s+", "", text, flags=re.I
    )
    return text.strip()


def _name_like(text: str) -> bool:
    letters = re.sub(r"[^A-Z]", "", text)
    return (
        len(letters) >= 3
        and not _NOT_NAME.search(text)
        and not DATE_TEXT.search(text)
        and not _is_registration(text)
        and not PHONE.search(text)
        and not re.match(r"^\W*\d", text)  # names do not start with a number
    )


def _vendor_fields(page: _Page) -> list[_Field]:
    end = _header_end(page)
    head = list(range(min(end, len(page.rows))))
    fields: list[_Field] = []
    if not head:
        return fields

    # Registered name: the first row in the header carrying a legal suffix, before the
    # address has ended (a "SDN BHD" owner printed below the address is a footnote).
    legal_index = None
    for i in head:
        text = page.texts[i]
        if LEGAL_SUFFIX.search(text) and len(re.sub(r"[^A-Z]", "", text)) >= 4:
            if i > 0 and _ADDRESS_STOP.search(text) and not _name_like(_strip_registration(text)):
                continue
            if i > 0 and re.search(r"OWNED|OPERATED|MANAGED|BY\s*:", page.texts[i - 1]):
                break
            legal_index = i
            break
        if i > 6 and (_ADDRESS_STOP.search(text) or PHONE.search(text)):
            break

    brand_index = None
    for i in head[:8]:
        if _name_like(page.texts[i]) and not _STREET_NUMBER.match(page.texts[i]):
            brand_index = i
            break

    name_rows: list[int] = []
    if legal_index is not None:
        legal_rows = _wrapped_name(page, legal_index)
        legal_text = fix_legal_suffix(
            _strip_registration(" ".join(page.rows[k].text.strip() for k in legal_rows))
        )
        legal_lines = [ln for k in legal_rows for ln in page.rows[k].lines]
        legal = _Field("VENDOR_LEGAL_NAME", legal_text, legal_lines, 0.8)
        name_rows += legal_rows
        if brand_index is None or brand_index >= legal_rows[0]:
            brand = _Field("VENDOR_NAME", legal.value_text, legal.value_lines, 0.7)
        else:
            brand_rows = _wrapped_name(page, brand_index, up=False)
            brand_rows = [k for k in brand_rows if k < legal_rows[0]]
            brand = _Field(
                "VENDOR_NAME",
                " ".join(page.rows[k].text.strip() for k in brand_rows),
                [ln for k in brand_rows for ln in page.rows[k].lines],
                0.7,
            )
            name_rows += brand_rows
        fields += [brand, legal]
    elif brand_index is not None:
        brand_rows = _wrapped_name(page, brand_index, up=False)
        fields.append(
            _Field(
                "VENDOR_NAME",
                _strip_registration(" ".join(page.rows[k].text.strip() for k in brand_rows)),
                [ln for k in brand_rows for ln in page.rows[k].lines],
                0.6,
            )
        )
        name_rows += brand_rows

    address = _address(page, max(name_rows) + 1 if name_rows else 0, end)
    if address:
        rows = [page.rows[i] for i in address]
        text = " ".join(r.text.strip() for r in rows)
        # A phone number printed at the end of the last address line is not address.
        text = re.sub(
            r"[\s,]*(?:TEL|PHONE)?[\s.:]*\(?\+?\d{2,4}\)?-\d{3,4}[\s-]?\d{3,5}\.?$", "", text, flags=re.I
        )
        text = _address_commas(text)
        fields.append(_Field("VENDOR_ADDRESS", text, [ln for r in rows for ln in r.lines], 0.6))

    for i in range(min(len(page.rows), end + 3)):
        match = PHONE.search(page.rows[i].text)
        if (
            match
            and not DATE_TEXT.search(match.group(0))
            and not re.search(r"FAX", page.texts[i][: match.start() + 4])
        ):
            number = re.sub(r"^(?:TEL|PHONE|PH|HP|H/P|MOBILE|T)\s*[.:]?\s*", "", match.group(0), flags=re.I)
            if len(re.sub(r"\D", "", number)) >= 7:
                fields.append(_Field("VENDOR_PHONE", number.strip(), page.rows[i].lines, 0.7))
                break
    return fields


_ABBREVIATION = re.compile(r"\b(?:NO|JLN|JL|JLH|LOT|ST|DR|RD|AVE|BLK|TMN|KG|BDR|MT|LRG|SG|BT)$", re.I)


def _address_commas(text: str) -> str:
    """OCR reads the commas between address parts as full stops ("TAMAN AIR BIRU. 81700
    PASIR GUDANG. JOHOR."); a stop after a word that is not an abbreviation, followed by
    more address, is a comma. The final full stop stays."""

    def fix(match: re.Match[str]) -> str:
        before = text[: match.start()]
        return match.group(0) if _ABBREVIATION.search(before) else ", "

    text = re.sub(r"(?<=[A-Za-z0-9]{2})\.\s+(?=[A-Za-z0-9(])", fix, text)
    # One-character slips in address tokens: "JIn"/"J1n" for the abbreviation "Jln",
    # "4330O" for a postcode.
    text = re.sub(r"\b(J)[I1|](n)\b", r"\1l\2", text)
    text = re.sub(r"\b(J)[I1|l](N)\b", r"\1L\2", text)
    text = re.sub(r"\b(B)I(k)\b", r"\1l\2", text)
    return re.sub(r"\b(?=[\dO]{5}\b)(\d*)O(\d*)\b", r"\g<1>0\2", text)


def _plain_name_row(text: str) -> bool:
    """A row that can be part of a name: letters, no address, number or boilerplate."""
    return (
        _name_like(text) and not _ADDRESS_WORD.search(text.rstrip(",&-( ")) and not re.search(r"\d{3,}", text)
    )


def _wrapped_name(page: _Page, index: int, up: bool = True) -> list[int]:
    """The rows of a name printed over two lines.

    "POPULAR BOOK" / "CO. (M) SDN BHD", "BENS INDEPENDENT GROCER" / "SDN. BHD": a legal
    row whose own words before the suffix are too few to be a name takes the row above.
    "HOME MASTER HARDWARE &" / "ELECTRICAL": a row ending in "&" or an open bracket takes
    the row below.
    """
    rows = [index]
    text = page.texts[index]
    before_suffix = LEGAL_SUFFIX.split(_strip_registration(text))[0]
    words = re.findall(r"[A-Z&]{2,}", before_suffix)
    # A row starting with a generic business word continues the name above it:
    # "AIK HUAT HARDWARE" / "ENTERPRISE (SETIA ALAM) SDN BHD".
    short_name = (
        len(words) <= 1
        or re.match(r"^\W*(?:CO\b|&|\(|[A-Z]+\))", text) is not None
        or re.match(
            r"^\W*(?:ENTERPRISES?|TRADING|RESTAURANT|MARKETING|HOLDINGS|INDUSTRIES|"
            r"SERVICES?|HYPERMARKET|SUPERMARKET|COMPANY|CORPORATION)\b",
            text,
        )
        is not None
        or (len(words) <= 2 and len(page.texts[index - 1]) > 12)
    )
    # A row above that is the name's own start is the brand, not a wrapped part of it:
    # "GREEN PHARMACY" / "GREEN PHARMACY LLC", "SHELL" / "SHELL DEUTSCHLAND GMBH".
    brand_above = index > 0 and _compact(before_suffix).startswith(_compact(page.texts[index - 1]))
    if up and index > 0 and short_name and not brand_above and _plain_name_row(page.texts[index - 1]):
        rows.insert(0, index - 1)
    last = page.texts[rows[-1]]
    unfinished = last.rstrip().endswith(("&", "-", "(")) or last.count("(") > last.count(")")
    if unfinished and rows[-1] + 1 < len(page.rows):
        below = page.texts[rows[-1] + 1]
        if _plain_name_row(below) or LEGAL_SUFFIX.search(below):
            rows.append(rows[-1] + 1)
    return rows


def _compact(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _address_start(text: str) -> bool:
    return bool(
        _ADDRESS_WORD.search(text.rstrip(", ")) or _POSTCODE.search(text) or _STREET_NUMBER.match(text)
    )


def _address(page: _Page, start: int, end: int) -> list[int]:
    """Rows of the vendor's address: after the name, before the first non-address line.

    Before the address begins, registration and tax numbers, "formerly known as" lines,
    dates and branch names are passed over (up to 6 rows).
    """
    rows: list[int] = []
    limit = min(end + 3, len(page.rows))
    i = start
    while i < limit:
        text = page.texts[i]
        if not rows:
            if (
                _address_start(text)
                and not _is_registration(text)
                and not _ADDRESS_STOP.search(text)
                and not DATE_TEXT.search(text)
                and not PHONE.search(text)
            ):
                rows.append(i)
            elif i - start >= 6:
                break
            i += 1
            continue
        if _is_registration(text):
            break
        if _ADDRESS_STOP.search(text) or (PHONE.search(text) and not _POSTCODE.search(text)):
            break
        if DATE_TEXT.search(text) or (page.row_amounts[i] and not _address_start(text)):
            break
        prev = page.texts[rows[-1]]
        # The address ends with the postcode line ("81750 MASAI JOHOR"), unless the state
        # follows on its own line. "LOT PTD 198718" or "LOT 2110&2111 JALAN" are not postcodes.
        if (
            _STRICT_POSTCODE.search(prev)
            and not re.search(r"\d{5}\W*$", prev)
            and not _continues_after_postcode(text)
        ):
            break
        if not _address_start(text) and not _continues_after_postcode(text) and _POSTCODE.search(prev):
            break
        if not _address_start(text) and len(rows) >= 1 and LEGAL_SUFFIX.search(text):
            break
        rows.append(i)
        if len(rows) >= 6:
            break
        i += 1
    # A leading line without a number when a later line starts with the street number is
    # the branch, not the address ("BANDAR BARU RAWANG" / "NO 15 JALAN BANDAR RAWANG 10").
    for k in range(1, len(rows)):
        if _STREET_NUMBER.match(page.texts[rows[k]]) and not _POSTCODE.match(page.texts[rows[k]]):
            if all(
                not re.search(r"\d", page.texts[r]) and not _ADDRESS_WORD.search(page.texts[r].rstrip(", "))
                for r in rows[:k]
            ):
                rows = rows[k:]
            break
    return rows


_STATES = re.compile(
    r"^(?:SELANGOR|KUALA\s*LUMPUR|JOHOR|PULAU\s*PINANG|PENANG|PERAK|KEDAH|MELAKA|PAHANG|SABAH|"
    r"SARAWAK|NEGERI\s*SEMBILAN|KELANTAN|TERENGGANU|PERLIS|PUTRAJAYA|MALAYSIA|SINGAPORE|"
    r"DARUL|W\.?\s*P|WILAYAH)"
)


def _continues_after_postcode(text: str) -> bool:
    return bool(_STATES.match(text)) or (
        len(text) <= 30 and not re.search(r"\d", text) and bool(re.search(r"[.,]\s*$|\b(?:DARUL|D\.E)", text))
    )


# --- date --------------------------------------------------------------------------------


def _date_field(page: _Page) -> list[_Field]:
    day_first = page.currency not in {"USD", "CAD"}
    best: tuple[int, int, str, list[OcrLine]] | None = None
    for i, row in enumerate(page.rows):
        found = find_date(_glue_fix(row.text), day_first=day_first)
        if not found:
            continue
        printed, _ = found
        # A labelled date beats an unlabelled one; otherwise the first printed wins
        # (due dates and expiry dates come later on the page).
        score = 2 if re.search(r"DATE|TARIKH|DTE", page.texts[i]) else 1
        if re.search(r"EXP|VALID|DUE|BEST|BEFORE|EXPIRY", page.texts[i]):
            score = 0
        cells = [c.line for c in row.cells if printed.split()[0] in _glue_fix(c.text)] or row.lines
        if best is None or score > best[0]:
            best = (score, i, printed, cells)
    if best is None:
        return []
    return [_Field("INVOICE_RECEIPT_DATE", best[2], best[3], 0.9 if best[0] == 2 else 0.75)]


def _glue_fix(text: str) -> str:
    # OCR reads "25/12/2018 8:13" as "25/12/20188:13"; the regexes take the 4-digit year
    # first, so nothing to undo here beyond common letter-for-digit slips in the year.
    return re.sub(r"(?<=\d[/.-])2O(\d\d)", r"20\1", text)


# --- amounts -----------------------------------------------------------------------------


@dataclass
class _Entry:
    """A row with a label and the amount that goes with it."""

    row: int
    label: str
    amount: Decimal
    cell: Placed
    printed: str
    prio: int = 0  # total candidates: 3 strong label, 2 weak label


def _amount_fields(page: _Page) -> tuple[list[_Field], int]:
    """Totals and friends; also where the summary block starts (the items end there)."""
    totals: list[_Entry] = []
    found: dict[str, _Entry] = {}
    summary_start = len(page.rows)
    paid: list[_Entry] = []
    change: Decimal | None = None
    rounding: _Entry | None = None
    valued: list[_Entry] = []

    for i, text in enumerate(page.texts):
        pairs = page.label_values(i)
        # A "TOTAL" label without an amount starts the summary, unless the row is the
        # items' column header ("QTY NAME PRICE TOTAL").
        if not pairs and re.search(r"TOTAL|SUBTOTAL", text) and len(_HEADER_ROW.findall(text)) < 2:
            summary_start = min(summary_start, i)
        for label, amount, cell, printed in pairs:
            entry = _Entry(i, label.strip(" :"), amount, cell, printed)
            valued.append(entry)
            summary_start = _classify(entry, label, found, totals, paid, summary_start)
            if entry.label == "CHANGE" or _CHANGE.search(label):
                change = abs(amount)
            if _ROUNDING.search(label) and abs(amount) < 1 and not _SUBTOTAL.search(label):
                rounding = entry

    total = _choose_total(totals, paid, change, rounding, valued, found)
    fields: list[_Field] = []
    if total is not None:
        fields.append(_amount_field(page, "TOTAL", total, 0.85 if total.prio >= 3 else 0.7))
    for kind in ("SUBTOTAL", "TAX", "GRATUITY", "DISCOUNT", "AMOUNT_PAID"):
        if kind in found:
            entry = found[kind]
            if kind == "TAX" and total is not None and entry.amount >= total.amount > 0:
                continue  # a tax summary table's taxable amount, not the tax
            fields.append(_amount_field(page, kind, entry, 0.7))
    return fields, summary_start


def _classify(
    entry: _Entry,
    label: str,
    found: dict[str, _Entry],
    totals: list[_Entry],
    paid: list[_Entry],
    summary_start: int,
) -> int:
    i, amount = entry.row, entry.amount
    # "(TOTAL INCLUDED GST @ 6% : 1.42)", "GST 6% 1.19": the tax, not a total; but
    # "TOTAL INCL. GST 6%" is the total.
    tax_note = bool(
        re.search(r"%", label)
        and _TAX.search(label)
        and (not re.search(r"T[O0]TAL", label) or re.search(r"^\W*\(|INCLUDED\s*(?:GST|TAX)\s*@", label))
    )
    if _SUBTOTAL.search(label):
        found.setdefault("SUBTOTAL", entry)
        summary_start = min(summary_start, i)
    elif _ROUNDING.search(label):
        if abs(amount) >= 1:  # "ROUNDING RM 182.00": the rounded total
            entry.prio = 3
            totals.append(entry)
        summary_start = min(summary_start, i)
    elif _CHANGE.search(label):
        pass
    elif (
        not tax_note
        and _TOTAL_STRONG.search(label)
        and not re.search(r"SAVING|\bQTY|\bITEMS?\b|EXCL|DISCOUNT", label)
    ):
        entry.prio = 3
        totals.append(entry)
        summary_start = min(summary_start, i)
    elif not tax_note and _TOTAL_WEAK.search(label) and not _NOT_TOTAL.search(label):
        entry.prio = 2
        totals.append(entry)
        summary_start = min(summary_start, i)
    elif _TIP.search(label):
        found.setdefault("GRATUITY", entry)
    elif _DISCOUNT.search(label) and not re.search(r"TOTAL", label):
        found.setdefault("DISCOUNT", entry)
    elif tax_note or (_TAX.search(label) and not _TAX_NOT.search(label)):
        if "TAX" not in found or i >= summary_start:
            found["TAX"] = entry
    elif _PAID.search(label) and amount != 0:
        paid.append(entry)
        found.setdefault("AMOUNT_PAID", entry)
    return summary_start


def _choose_total(
    totals: list[_Entry],
    paid: list[_Entry],
    change: Decimal | None,
    rounding: _Entry | None,
    valued: list[_Entry],
    found: dict[str, _Entry],
) -> _Entry | None:
    positive = [t for t in totals if t.amount > 0]
    first_total_row = min((t.row for t in positive), default=None)
    summary_row = min([t.row for t in positive] + [e.row for e in found.values()], default=None)
    # Tendered minus change is the total, when both are printed: the strongest evidence,
    # and it finds totals printed without a label ("RM 60.30" under a rounding line).
    due: Decimal | None = None
    if change is not None:
        for tender in paid:
            if abs(tender.amount) - change > 0:
                due = abs(tender.amount) - change
                break
    if due is not None and summary_row is not None:
        match = [t for t in positive if t.amount == due] or [
            e for e in valued if e.amount == due and e.row >= summary_row - 1 and e not in paid
        ]
        if match:
            return max(match, key=lambda e: e.prio)
    if not positive:
        # No total printed by name: tendered minus change, else subtotal plus tax.
        anchor = found.get("TAX") or found.get("SUBTOTAL") or (paid[0] if paid else None)
        if anchor is None:
            return None
        if due is None and "SUBTOTAL" in found and "TAX" in found:
            due = found["SUBTOTAL"].amount + found["TAX"].amount
        if due is None:
            return None
        return _Entry(anchor.row, "", due, anchor.cell, f"{due:.2f}", 1)
    # A rounding line: the total is the amount after it, or the total before it plus it.
    if rounding is not None:
        after = [t for t in positive if t.row > rounding.row]
        if after:
            return after[0]
        before = [t for t in positive if t.row <= rounding.row and t is not rounding]
        if before:
            rounded = before[-1].amount + rounding.amount
            printed = [e for e in valued if e.amount == rounded and e.row > rounding.row]
            if printed:
                return printed[0]
            if rounding.amount != 0:
                target = before[-1]
                return _Entry(target.row, target.label, rounded, target.cell, f"{rounded:.2f}", target.prio)
    del first_total_row
    # Several totals: the best label wins; among equals a GST-inclusive total beats the
    # net one and is the larger (savings and quantities were excluded by label).
    best = max(t.prio for t in positive)
    return max((t for t in positive if t.prio == best), key=lambda t: (t.amount, -t.row))


def _amount_field(page: _Page, kind: str, entry: _Entry, conf: float) -> _Field:
    row = page.rows[entry.row]
    label_lines = [c.line for c in row.cells if c is not entry.cell and not amounts(c.text)]
    return _Field(
        kind,
        with_leading_zero(entry.printed),
        [entry.cell.line],
        conf,
        label_text=entry.label or None,
        label_lines=label_lines or None,
        currency=page.currency,
    )


# --- line items --------------------------------------------------------------------------


@dataclass
class _Item:
    description: str
    desc_lines: list[OcrLine]
    price: str
    price_line: OcrLine
    quantity: str | None
    unit_price: str | None
    row_lines: list[OcrLine]
    x0: float = 0.0  # where the name starts on the de-skewed page


_ITEM_SKIP = re.compile(
    r"TOTAL|SUB\s*-?TOTAL|\bTAX\b|\bGST\b|\bVAT\b|\bHST\b|\bPST\b|\bIVA\b|\bCASH\b|\bCHANGE\b|\bROUND|\bBALANCE\b|"
    r"\bTENDER(?:ED)?\b|\bPAYMENT|\bVISA\b|\bMASTER|\bCARD\b(?!(?:\s+[A-Z]{3,}){2})|\bDUE\b|\bPAID\b|SAVING|DISCOUNT|\bTIPS?\b|"
    r"GRATUITY|SERVICE\s*CHARGE|MWST|M[UW]ST\b|\b(?:SUB)?TTL\b|\bNET\b|\bNETTO\b|\bSUMME\b|\bSALDO\b|"
    r"^\W*BAR\b\W*(?:EUR\W*)?$|\bEURO?\W*$|\bTAX\d|"
    r"\bAMOUNT\b|\bBALANCE\b|^\W*-{2,}|\bGEGEBEN|R[UÜ]CKGELD|\bTTC\b|\bHT\b|\bSUBTOT\b|\bDISC\b|"
    r"\bCOUPON\b|\bTAXABLE\b|\bBTW\b|\bTOTAAL\b|SOUS-?T[OA]TAL|GROSS\s*SALES|\bEXEMPT\b|IMPUESTO|IMPONIBLE|"
    r"\bUKUPNO\b|\bRENDU\b|EAT\s*IN\b|TAKE\s*OUT\b|"
    # Danish, Norwegian, Swedish: cash, change, VAT, total, to pay
    r"\bKONTANT\b|\bTILBAGE\b|\bMOMS\b|\bMVA\b|\bI\s*ALT\b|\bSUMMA\b|\bATT\s*BETALA\b|\bV[AÄ]XEL\b"
)
_QTY = re.compile(
    r"^(\d{1,3})(?:\s*[Xx@*]|\s+(?=[A-Za-z]))|\b(\d{1,3})\s*[Xx@*]\s*\d|\bQTY\s*:?\s*(\d{1,3})\b"
)


def _items_start(page: _Page) -> int:
    """The first row that can be an item. A photo cut off above the items starts with
    them ("3@2.00 BC FRUIT RULL UPS 6.00 F" on the first row): the header's three rows are
    not taken for the vendor's then, when a top row already reads like an item row
    (letters, then an amount with cents, no date, phone, address or summary word)."""
    end = _header_end(page)
    if not page.rows:
        return end
    left = min(c.x0 for r in page.rows for c in r.cells)
    right = max(c.x1 for r in page.rows for c in r.cells)
    for i in range(min(end, 3)):
        text = page.texts[i]
        found = page.row_amounts[i]
        if (
            found
            and found[-1][1].x0 > (left + right) / 2
            and i not in page.whole_rows
            and re.search(r"[A-Z]{3,}", AMOUNT.sub(" ", text))
            and not DATE_TEXT.search(text)
            and not PHONE.search(text)
            and not _ADDRESS_WORD.search(AMOUNT.sub(" ", text))
            and not _ITEM_SKIP.search(AMOUNT.sub(" ", text))
        ):
            return i
    return end


def _line_items(page: _Page, summary_start: int) -> list[_Item]:
    start = _items_start(page)
    items: list[_Item] = []
    pending: list[int] = []  # rows of text waiting for their amount (wrapped names)
    modifiers: list[int] = []  # rows of text since the last item
    below = _names_below(page, start, summary_start)
    taken: set[int] = set()  # name rows already given to the priced row above them
    if not below and 0 < start < len(page.rows) and _nameless_row(page, start) and _name_row(page, start - 1):
        # "CARD THANKS CLASSIC COUNTER" / "720473578652 5.99 T": the first item's name was
        # taken for the header, which ends at the first amount.
        pending = [start - 1]
    for i in range(start, len(page.rows)):
        text = page.texts[i]
        cells = page.row_amounts[i]
        if i in taken:
            continue
        named_total = _named_total(text, cells, items)
        if named_total and i >= summary_start:
            # The summary was taken to start at this product: it starts at the first
            # priced summary row after it instead (the break below).
            summary_start = len(page.rows)
        if i >= summary_start:
            break
        if _ITEM_SKIP.search(AMOUNT.sub(" ", text)) and not named_total:
            if (
                items
                and cells
                and not _DISCOUNT.search(text)
                and not re.search(r"\bNET\b|AMOUNT|TAX\d", text)
                # "TAX 18.00% 57.60" under each item: a rate row, the items go on
                and not (_TAX.search(text) and "%" in text and not re.search(r"TOTAL", text))
            ):
                break  # the first priced summary row after the items ends them
            pending, modifiers = [], []
            continue
        if not cells:
            words = re.sub(r"[^A-Z]", "", text)
            # A column header ("AANT OMSCHRIJVING", "DESCRIPTION QTY") names no item.
            if (
                len(words) >= 2
                and re.search(r"[A-Z]{2}", _HEADER_ROW.sub(" ", text))
                and not DATE_TEXT.search(text)
                and not re.fullmatch(r"\s*\*{3}.*\*{3}\s*", text)  # "***End of Group Promotion***"
            ):
                pending = [*pending, i][-2:]
                modifiers.append(i)
            continue
        value, price_cell, printed = cells[-1]
        row = page.rows[i]
        if value < 0:
            pending, modifiers = [], []
            continue  # "Open $ Disc 2.05-", "Mfr. eCoupon 1.00-": a discount, not an item
        if len(items) >= 2 and value > 0 and _sums_the_items(page, i, items):
            break  # "ST 165.00" after 30.00, 110.00, 25.00, then "KONTANT": a subtotal
        if len(_HEADER_ROW.findall(AMOUNT.sub(" ", text))) >= 2:
            pending, modifiers = [], []
            continue  # "ITEM QTY PRICE EXT PRICE": a column header that took a stray amount
        desc_cells = [c for c in row.cells if c.x1 <= price_cell.x0 + 1 and not _only_numbers(c.text)]
        desc = " ".join(c.text for c in desc_cells).strip()
        desc_lines = [c.line for c in desc_cells]
        # The amount's own cell may start with the description ("COFFEE 3.50").
        head = price_cell.text[: price_cell.text.rfind(printed)].strip() if printed in price_cell.text else ""
        head = AMOUNT.sub("", head).strip()
        if re.search(r"[A-Za-z]{2,}", head):
            desc = (desc + " " + head).strip()
            desc_lines.append(price_cell.line)
        last = _item_values(items[-1:])
        if _nameless(desc) and re.search(r"FINAL\s*PRICE", desc, re.I) and last and 0 < value <= last[0]:
            # "NIKE ROSHE ONE $74.99" / "$-15.00" / "Final Price $59.99": the item's price
            # after its discounts.
            items[-1].price, items[-1].price_line = with_leading_zero(printed), price_cell.line
            pending, modifiers = [], []
            continue
        if _nameless(desc) and _PRICE_NOTE.search(desc) and not pending:
            # A price note under an item already read: "ItemPrice 12.00 YouSave 9.60",
            # "RegPrice 13.96 CardSav 3.96", "REGULAR PRICE 1099.99", "NETT PRICE 22.20".
            modifiers = []
            continue
        if below and _nameless(desc) and i + 1 < summary_start and _name_row(page, i + 1):
            # "100507 1 7.99 7.99" / "LEFTY O'DOUL'S MARGARITA MIX": the name under its row.
            desc = page.rows[i + 1].text
            desc_lines = list(page.rows[i + 1].lines)
            taken.add(i + 1)
            pending = []
        elif _nameless(desc) and pending:
            # The name was printed on the row(s) above: "KF MODELLING CLAY" / "1 PC * 9.00".
            # A price note is dropped: "B8-20 TOP" / "ItemPrice 32.00 YouSave 25.60 6.40".
            if _PRICE_NOTE.search(desc):
                desc = ""
            # "GROCERY" / "4125064485 FROZEN ONIONS" / "2 @ .99 1.98": a department
            # title (one word) above a name is not part of it.
            if len(pending) == 2 and re.fullmatch(r"\W*[A-Z]+\W*", page.texts[pending[0]]):
                pending = pending[1:]
            desc = " ".join(_ARTICLE_NUMBER.sub("", page.rows[p].text) for p in pending) + (
                " " + desc if desc else ""
            )
            desc_lines = [ln for p in pending for ln in page.rows[p].lines] + desc_lines
        elif items and modifiers:
            # Rows without a price between two named items belong to the one above
            # ("Meal-Spcy Sand" / "Spcy Sand" / "Fries MD", "+AVO" / "SUB MODS"), when
            # they start at its name or set in by a few characters; a department title
            # centred over the next items ("GROC NONEDIBLE") is set in further and is not
            # part of the item above.
            # A section title centred over the row ("Appetizer", "Main course") is not
            # part of the item above either.
            prev = items[-1]
            first = page.rows[modifiers[0]]
            x0 = min((c.x0 for c in first.cells), default=0.0)
            h = first.h
            left, right = min(c.x0 for c in row.cells), max(c.x1 for c in row.cells)
            centre = (x0 + max(c.x1 for c in first.cells)) / 2
            centred = x0 > prev.x0 + 2 * h and abs(centre - (left + right) / 2) < 0.08 * (right - left)
            if prev.x0 - 0.5 * h < x0 < prev.x0 + 4 * h and not centred:
                prev.description = " ".join([prev.description, *(page.rows[k].text for k in modifiers)])
                prev.desc_lines = prev.desc_lines + [ln for k in modifiers for ln in page.rows[k].lines]
        pending = []
        modifiers = []
        if not re.search(r"[A-Za-z]{2,}", desc):
            continue
        quantity, unit_price = _quantity(text, cells, value)
        # "EE 325112 ICE TEA", "EEEEE 3 HOM MI K": a vertical stripe at the paper's edge
        # read as a run of one letter.
        desc = re.sub(r"^\s*([A-Z])\1+\s+(?=\S)", "", desc)
        # "2x Gyros Folie", "1 Tofu Miso Soup": the count is the quantity, not the name.
        lead = re.match(r"^\s*(\d{1,2})\s*[xX×*]?\s+(?=[A-Za-z]|\d+[A-Za-z]+\b)", desc)
        if lead and len(desc) > len(lead.group(0)) + 2:
            quantity = quantity or lead.group(1)
            desc = desc[lead.end() :]
        # "1,000 CACERES", "3,000 RACION DE PAN": a quantity with decimals (Spanish tills).
        lead = re.match(r"^\s*(\d{1,3})[.,: ](?:00|000)\s+(?=[A-Za-z]{2})", desc)
        if lead:
            quantity = quantity or lead.group(1)
            desc = desc[lead.end() :]
        # "4@2.50 NV CASHEW ROASTED 10.00": count and unit price before the name.
        lead = re.match(r"^\s*(\d{1,3})\s*@\s*[$€£]?(\d*[.,]\d{2})\s+(?=\S*[A-Za-z]{2})", desc)
        if lead:
            quantity, unit_price = quantity or lead.group(1), unit_price or lead.group(2)
            desc = desc[lead.end() :]
        desc = re.sub(r"\s*[$€£¥]\s*$", "", desc)
        desc = _ARTICLE_NUMBER.sub("", _MEASURE.sub("", desc)).strip()
        item = _Item(
            desc, desc_lines, with_leading_zero(printed), price_cell.line, quantity, unit_price, row.lines
        )
        item.x0 = min((c.x0 for c in desc_cells), default=price_cell.x0)
        items.append(item)
    return _fix_dollar_slips(items)


def _name_row(page: _Page, k: int) -> bool:
    """A row of words without an amount that can name an item."""
    text = page.texts[k]
    return (
        not page.row_amounts[k]
        and len(re.sub(r"[^A-Z]", "", text)) >= 2
        and bool(re.search(r"[A-Z]{2}", _HEADER_ROW.sub(" ", text)))
        and not DATE_TEXT.search(text)
        and not re.search(r"\d:\d\d", text)  # a time: "JAN09:03 9:03PM"
        and not _ITEM_SKIP.search(text)
    )


def _nameless_row(page: _Page, k: int) -> bool:
    """A row with an amount and nothing but numbers and units before it ("100507 1 7.99")."""
    text = AMOUNT.sub(" ", page.texts[k])
    return bool(page.row_amounts[k]) and not _ITEM_SKIP.search(text) and _nameless(text)


def _names_below(page: _Page, start: int, end: int) -> bool:
    """Items printed as a row of numbers with the name on the row below ("100507 1 7.99
    7.99" / "LEFTY O'DOUL'S MARGARITA MIX"): the first such row has no name above it (the
    column header is, even where the header was taken to end at the first amount) and
    the last one has its name below it (the summary follows the name)."""
    rows = [k for k in range(start, min(end, len(page.rows))) if _nameless_row(page, k)]
    if len(rows) < 2:
        return False
    first, last = rows[0], rows[-1]
    above_free = first == 0 or not _name_row(page, first - 1)
    return above_free and last + 1 < end and _name_row(page, last + 1)


def _sums_the_items(page: _Page, i: int, items: list[_Item]) -> bool:
    """Row ``i`` (with up to three priced rows after it) adds up to the items read so far
    and a summary row follows: a subtotal ("ST 165.00") or sales by category ("food
    21.95" / "liquor 6.50"), not more items."""
    target = sum(_item_values(items))
    # Several rows adding up must be set apart from the items by a wider gap (the
    # category block), else two items that cost as much as those above would end them.
    ys = [page.rows[k].y for k in range(i) if page.row_amounts[k]][-6:]
    pitch = statistics.median(b - a for a, b in itertools.pairwise(ys)) if len(ys) >= 3 else 0.0
    apart = bool(ys) and pitch > 0 and page.rows[i].y - ys[-1] > 1.6 * pitch
    run = Decimal(0)
    j = i
    while j < min(i + 4, len(page.rows)) and page.row_amounts[j]:
        if _ITEM_SKIP.search(AMOUNT.sub(" ", page.texts[j])):
            break
        run += page.row_amounts[j][-1][0]
        if run == target and (j == i or apart):
            return _summary_follows(page, j)
        j += 1
    return False


def _summary_follows(page: _Page, i: int) -> bool:
    """The next row with an amount after row ``i`` is a summary row (or there is none)."""
    for j in range(i + 1, len(page.rows)):
        if page.row_amounts[j]:
            label = AMOUNT.sub(" ", page.texts[j])
            return bool(
                _ITEM_SKIP.search(label)
                or _TOTAL_WEAK.search(label)
                or _TAX.search(label)
                or _TIP.search(label)
                or _PAID.search(label)
                or re.search(r"%|\bSERVICE", label)
            )
    return True


def _item_values(items: list[_Item]) -> list[Decimal]:
    return [v for it in items for v, _ in amounts(it.price)[-1:]]


def _named_total(text: str, cells: list[tuple[Decimal, Placed, str]], items: list[_Item]) -> bool:
    """A product whose name holds TOTAL ("1 LIST TOTAL CARE 3.2Z 2.77T", "TOTAL 03
    001600027484 3.54 N"): TOTAL is the row's only summary word and its amount is below an
    item's already read, which a receipt's total cannot be."""
    words = [m.group(0) for m in _ITEM_SKIP.finditer(AMOUNT.sub(" ", text))]
    if not words or any(w != "TOTAL" for w in words) or not cells or not items:
        return False
    if re.search(r"\bTOTAL\s*:|TOTAL\W*$", AMOUNT.sub(" ", text)):
        return False  # "TOTAL: 5.58", "TOTAL 5.58": a label
    prices = [v for it in items for v, _ in amounts(it.price)]
    return bool(prices) and Decimal(0) <= cells[-1][0] < max(prices)


def _fix_dollar_slips(items: list[_Item]) -> list[_Item]:
    """OCR reads a "$" as "0" or "8": "011.90" among "$16.90", "$14.90". An amount starting
    with 0 or 8 and one more integer digit than it can have ("0" never leads) takes the
    "$" back when the other prices print one."""
    dollars = sum(1 for it in items if it.price.lstrip("-").startswith("$"))
    if dollars < 2 or dollars < len(items) / 2:
        return items
    for it in items:
        m = re.fullmatch(r"([08])(\d{1,3}[.,]\d{2})", it.price)
        if m and ((m.group(1) == "0" and m.group(2)[0] != "0") or m.group(1) == "8"):
            it.price = "$" + m.group(2)
    return items


_UNIT = re.compile(r"\b\d*\s*(?:PCS?|EA|UNITS?|KG|G|ML|L|X|@|NOS|BTL|PKT)\b|[*@x]", re.IGNORECASE)


# Price notes under an item's name: "ItemPrice 46.00 YouSave 36.80", "was 8.14 now".
_PRICE_NOTE = re.compile(
    r"\b(?:I[TF]EM\s*PRICE|RE[GS](?:ULAR)?\.?\s*PRICE|YOU\s*SAVED?|WAS|NOW|SAVED?|CARD\s*SAV\w*|FINAL\s*PRICE|"
    r"PACKAGE\s*PRICE|ITEM\s*CODE|NETT?\s*PRICE|UNIT\s*PRICE|COMPARE\s*AT)\b",
    re.IGNORECASE,
)


def _nameless(desc: str) -> bool:
    """Nothing but a quantity and unit ("1 PC *") or a price note ("ItemPrice 46.00
    YouSave 36.80"): the name is on the row above."""
    return not re.search(r"[A-Za-z]{2,}", _UNIT.sub(" ", _PRICE_NOTE.sub(" ", desc)))


# Article numbers before or after the name: "275113 SWIRL POPS", "TODDLER APPAREL
# 716042767626 C".
_ARTICLE_NUMBER = re.compile(r"^\s*\*?\d{4,}\s+(?=\S*[A-Za-z]{2})|\s+-?\d{8,}\s*[A-Z]?\s*$")

# Weighed and counted items carry their measure after the name: "BANANAS 1.150kg @
# $2.65/kg", "P. Montrachet (4 @114.00)", "BANANAS 00.19/EA".
_MEASURE = re.compile(
    r"\s+\(?\d+(?:[.,]\d+)?\s*(?:KG|LBS?|G)\b\s*@.*$|\s+\d+[.,]\d+\s*(?:KG|LBS?)\b.*$|\s*\(\d+\s*@\s*[\d.,]*\)?\s*$|"
    r"\s+[$€£]?\d*[.,]\d{2}\s*/\s*(?:EA|KG|LB)\b.*$",
    re.IGNORECASE,
)


def _only_numbers(text: str) -> bool:
    return not re.search(r"[A-Za-z]{2,}", text)


def _is_code_row(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s-]{6,}", text))


def _quantity(
    text: str, cells: list[tuple[Decimal, Placed, str]], amount: Decimal
) -> tuple[str | None, str | None]:
    match = _QTY.search(text)
    quantity = next((g for g in match.groups() if g), None) if match else None
    unit_price = None
    if len(cells) >= 2:
        unit_value, _, unit_text = cells[-2]
        unit_text = with_leading_zero(unit_text)
        if quantity and unit_value * Decimal(quantity) == amount:
            unit_price = unit_text
        elif (
            quantity is None
            and unit_value != 0
            and (amount / unit_value) == (amount / unit_value).to_integral_value()
        ):
            quantity = str(int(amount / unit_value))
            unit_price = unit_text
    return quantity, unit_price


# --- JSON --------------------------------------------------------------------------------


def _detection(text: str, lines: Sequence[OcrLine], page: _Page) -> dict[str, Any]:
    return {
        "Text": text,
        "Geometry": textract_geometry(lines, page.width, page.height),
        "Confidence": round(100 * _ocr_conf(lines), 3),
    }


def _summary_json(field: _Field, page: _Page, page_number: int) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": {"Text": field.kind, "Confidence": round(100 * field.confidence, 3)}}
    if field.label_text and field.label_lines:
        out["LabelDetection"] = _detection(field.label_text, field.label_lines, page)
    out["ValueDetection"] = _detection(field.value_text, field.value_lines, page)
    out["PageNumber"] = page_number
    if field.currency and field.kind in {"TOTAL", "SUBTOTAL", "TAX", "GRATUITY", "DISCOUNT", "AMOUNT_PAID"}:
        out["Currency"] = {"Code": field.currency}
    return out


def _item_json(item: _Item, page: _Page, page_number: int) -> dict[str, Any]:
    def field(kind: str, text: str, lines: Sequence[OcrLine], conf: float) -> dict[str, Any]:
        return {
            "Type": {"Text": kind, "Confidence": conf},
            "ValueDetection": _detection(text, lines, page),
            "PageNumber": page_number,
        }

    fields = [field("ITEM", item.description, item.desc_lines, 80.0)]
    if item.quantity:
        fields.append(field("QUANTITY", item.quantity, item.row_lines, 60.0))
    if item.unit_price:
        fields.append(field("UNIT_PRICE", item.unit_price, item.row_lines, 60.0))
    fields.append(field("PRICE", item.price, [item.price_line], 80.0))
    row_lines = list(dict.fromkeys([*item.desc_lines, *item.row_lines]))
    row_text = " ".join(
        ln.text for ln in sorted(row_lines, key=lambda ln: (round(ln.cy / max(ln.height, 1)), ln.left))
    )
    fields.append(field("EXPENSE_ROW", row_text, row_lines, 70.0))
    return {"LineItemExpenseFields": fields}
