"""Parser rules on real receipt lines (sroie-train box/ transcripts and boxes)."""

from __future__ import annotations

import pytest

from tests.unit.reader.support import fields, items, parse

# X51005605335 (sroie-train): brand and registered name on two rows, a rounding line,
# cash printed negative, a savings line and a GST summary below the totals.
POPULAR = """
138,121,556,121,556,169,138,169,POPULAR BOOK
104,185,625,185,625,238,104,238,CO. (M) SDN BHD
193,249,502,249,502,275,193,275,(CO. NO. 113825-W)
124,287,572,287,572,314,124,314,(GST REG NO. 001492992000)
47,327,645,327,645,352,47,352,NO 8, JALAN 7/118B, DESA TUN RAZAK
102,365,593,365,593,392,102,392,56000 KUALA LUMPUR, MALAYSIA
208,404,471,404,471,431,208,431,SUNWAY VELOCITY
155,485,558,485,558,511,155,511,TEL: 03-9201 6281/6920
35,565,171,565,171,591,35,591,12/01/18
192,566,278,566,278,590,192,590,16:52
334,563,685,563,685,589,334,589,SLIP NO.: 0020070154
34,683,224,683,224,709,34,709,DESCRIPTION
529,681,631,681,631,706,529,706,AMOUNT
35,758,313,758,313,786,35,786,70G P. COPY 450'S
86,798,283,798,283,826,86,826,2PC @ 13.69
564,797,686,797,686,823,564,823,27.38 T
51,839,350,839,350,865,51,865,STAT-GREAT SAVING
568,834,652,834,652,863,568,863,-6.40
35,916,405,916,405,942,35,942,TOTAL RM INCL. OF GST
565,912,650,912,650,940,565,940,20.98
34,955,242,955,242,983,34,983,ROUNDING ADJ
585,953,653,953,653,980,585,980,0.02
35,997,176,997,176,1022,35,1022,TOTAL RM
567,994,651,994,651,1021,567,1021,21.00
38,1035,104,1035,104,1062,38,1062,CASH
551,1032,651,1032,651,1060,551,1060,-50.00
36,1072,139,1072,139,1102,36,1102,CHANGE
565,1072,651,1072,651,1098,565,1098,29.00
36,1190,226,1190,226,1219,36,1219,GST SUMMARY
265,1190,455,1190,455,1216,265,1216,AMOUNT (RM)
37,1229,140,1229,140,1255,37,1255,T @ 6%
376,1229,458,1229,458,1253,376,1253,19.79
587,1229,652,1229,652,1253,587,1253,1.19
36,1309,263,1309,263,1335,36,1335,TOTAL SAVINGS
569,1303,652,1303,652,1334,569,1334,-6.40
"""

# X51005444033: "TOTAL SAVING 0.00" and "TOTAL 77.20" on one row, "QTY 4 ROUNDING 0.00".
BIG = """
191,182,592,182,592,289,191,289,B.I.G.
151,329,619,329,619,382,151,382,BEN'S INDEPENDENT GROCER
78,453,674,453,674,485,78,485,BENS INDEPENDENT GROCER SDN. BHD
282,489,465,489,465,525,282,525,(913144-A)
244,524,508,524,508,561,244,561,LOT 6, JALAN BATAI,
141,561,607,561,607,595,141,595,PLAZA BATAI, DAMANSARA HEIGHTS
216,597,532,597,532,626,216,626,50490, KUALA LUMPUR
105,629,645,629,645,663,105,663,T: 03-2093 7358 | F: 03-2093 7359
151,663,595,663,595,700,151,700,(GST REG NO 000243941376)
29,728,503,728,503,758,29,758,TAX INVOICE : BAT02201803120255
591,729,724,729,724,758,591,758,12/03/18
23,770,279,770,279,799,23,799,CASHIER : FATIN SY
29,920,500,920,500,950,29,950,EVIAN MINERAL WATER 6X1.25L
442,964,549,964,549,990,442,990,53.50*1
607,966,715,966,715,992,607,992,53.50 S
29,1046,124,1046,124,1070,29,1070,ITEM 2
263,1043,539,1043,539,1072,263,1072,TOTAL WITH GST @ 6%
642,1047,713,1047,713,1071,642,1071,77.20
30,1090,75,1090,75,1117,30,1117,QTY
416,1091,535,1091,535,1117,416,1117,ROUNDING
657,1092,714,1092,714,1114,657,1114,0.00
30,1129,189,1129,189,1160,30,1160,TOTAL SAVING
231,1133,287,1133,287,1153,231,1153,0.00
472,1132,538,1132,538,1156,472,1156,TOTAL
639,1133,715,1133,715,1156,639,1156,77.20
471,1221,535,1221,535,1244,471,1244,CASH
629,1221,716,1221,716,1244,629,1244,100.00
439,1270,535,1270,535,1296,439,1296,CHANGE
647,1267,716,1267,716,1293,647,1293,22.80
"""

# X00016469619: the rounded total is printed with no label ("RM 60.30"); only cash
# tendered minus change tells it apart from the unrounded "TOTAL AMT 60.31".
UNLABELLED_TOTAL = """
26,100,300,100,300,130,26,130,INDAH GIFT & HOME DECO
26,693,280,693,280,712,26,712,TOTAL AMT................. RM
325,691,375,691,375,711,325,711,60.31
27,719,252,719,252,737,27,737,ROUNDING ADJ............
319,714,379,714,379,736,319,736,-0.01
261,768,280,768,280,787,261,787,RM
325,767,374,767,374,786,325,786,60.30
26,793,280,793,280,809,26,809,CASH.................... RM
326,792,373,792,373,809,326,809,70.30
25,815,280,815,280,835,25,835,CHANGE.................. RM
328,816,375,816,375,832,328,832,10.00
"""

# X00016469612: a one-letter OCR slip in "SDN BHD", the date glued to its time, the item
# name on the row above its amounts.
BOOK_TA_K = """
72,25,326,25,326,64,72,64,TAN WOON YANN
50,82,440,82,440,121,50,121,BOOK TA .K(TAMAN DAYA) SDN BND
205,121,285,121,285,139,205,139,789417-W
110,144,383,144,383,163,110,163,NO.53 55,57 & 59, JALAN SAGU 18,
192,169,299,169,299,187,192,187,TAMAN DAYA,
162,193,334,193,334,211,162,211,81100 JOHOR BAHRU,
217,216,275,216,275,233,217,233,JOHOR.
50,342,279,342,279,359,50,359,DOCUMENT NO : TD01167104
50,372,96,372,96,390,50,390,DATE:
165,372,342,372,342,389,165,389,25/12/20188:13:39 PM
191,460,298,460,298,476,191,476,CASH BILL
30,508,121,508,121,523,30,523,CODE/DESC
200,507,247,507,247,521,200,521,PRICE
374,507,441,507,441,521,374,521,AMOUNT
27,570,137,570,137,583,27,583,9556939040116
159,570,396,570,396,584,159,584,KF MODELLING CLAY KIDDY FISH
77,598,113,598,113,613,77,613,1 PC
138,597,148,597,148,607,138,607,*
202,597,245,597,245,612,202,612,9.000
275,598,309,598,309,612,275,612,0.00
411,596,443,596,443,613,411,613,9.00
245,639,293,639,293,658,245,658,TOTAL:
411,639,443,639,443,656,411,656,9.00
"""


def test_brand_and_registered_name_are_both_kept() -> None:
    # Given a receipt printing its registered name over two rows
    # When it is parsed
    got = fields(parse(POPULAR))
    # Then the registered name is whole and the registration number is dropped
    assert got["VENDOR_LEGAL_NAME"] == "POPULAR BOOK CO. (M) SDN BHD"
    assert got["VENDOR_NAME"] == "POPULAR BOOK CO. (M) SDN BHD"
    assert got["VENDOR_ADDRESS"] == "NO 8, JALAN 7/118B, DESA TUN RAZAK 56000 KUALA LUMPUR, MALAYSIA"
    assert got["VENDOR_PHONE"].startswith("03-9201 6281")


def test_total_after_rounding_not_cash_or_savings() -> None:
    got = fields(parse(POPULAR))
    assert got["TOTAL"] == "21.00"
    assert got["INVOICE_RECEIPT_DATE"] == "12/01/18"
    assert got["AMOUNT_PAID"] == "-50.00"


def test_brand_above_registered_name() -> None:
    got = fields(parse(BIG))
    assert got["VENDOR_NAME"] == "B.I.G."
    assert got["VENDOR_LEGAL_NAME"] == "BENS INDEPENDENT GROCER SDN. BHD"
    assert got["VENDOR_ADDRESS"] == "LOT 6, JALAN BATAI, PLAZA BATAI, DAMANSARA HEIGHTS 50490, KUALA LUMPUR"


def test_total_beside_total_saving_on_the_same_row() -> None:
    got = fields(parse(BIG))
    assert got["TOTAL"] == "77.20"
    assert got["AMOUNT_PAID"] == "100.00"


def test_unlabelled_rounded_total_found_from_cash_minus_change() -> None:
    got = fields(parse(UNLABELLED_TOTAL))
    assert got["TOTAL"] == "60.30"


def test_glued_date_slip_in_suffix_and_item_name_above_amounts() -> None:
    page = parse(BOOK_TA_K)
    got = fields(page)
    assert got["INVOICE_RECEIPT_DATE"] == "25/12/2018"
    assert got["VENDOR_LEGAL_NAME"] == "BOOK TA .K(TAMAN DAYA) SDN BHD"
    assert got["VENDOR_ADDRESS"] == "NO.53 55,57 & 59, JALAN SAGU 18, TAMAN DAYA, 81100 JOHOR BAHRU, JOHOR."
    assert got["TOTAL"] == "9.00"
    lines = items(page)
    assert len(lines) == 1
    assert "KF MODELLING CLAY KIDDY FISH" in lines[0]["ITEM"]
    assert lines[0]["PRICE"] == "9.00"
    assert lines[0]["QUANTITY"] == "1"


@pytest.mark.parametrize("angle", [-4.0, 3.0])
def test_skewed_photo_reads_the_same(angle: float) -> None:
    # Given the same receipt photographed a few degrees off level
    straight, skewed = fields(parse(BIG)), fields(parse(BIG, angle_deg=angle))
    # Then rows are still rebuilt and the same fields come out
    assert skewed["TOTAL"] == straight["TOTAL"] == "77.20"
    assert skewed["VENDOR_LEGAL_NAME"] == straight["VENDOR_LEGAL_NAME"]


def test_us_receipt_month_first_and_line_items() -> None:
    # WildReceipt-style US receipt (words re-spaced): $ amounts, month-first date.
    page = parse(
        """
114,1,230,1,230,19,114,19,CHOEUN
97,19,236,19,236,35,97,35,KOREAN RESTAURANT
29,34,295,34,295,56,29,56,2621 ORANGETHORPE AVE, FULLERTON.
48,54,280,54,280,73,48,73,(714)879-3574
22,112,61,112,61,130,22,130,DATE
70,112,192,112,192,131,70,131,12/30/2016 FRI
19,149,157,149,157,168,19,168,BIBIM. OCTOPU T1
254,149,312,149,312,168,254,168,$13.99
17,171,158,171,158,190,17,190,S-FOOD P.CAK T1
257,170,314,170,314,189,257,189,$14.99
14,192,158,192,158,214,14,214,PORK DUMPLIN T1
268,192,310,192,310,212,268,212,$8.99
19,262,120,262,120,282,19,282,SUBTOTAL
263,262,320,262,320,282,263,282,$37.97
19,287,120,287,120,307,19,307,TAX
274,287,320,287,320,307,274,307,$3.04
8,316,60,316,60,336,8,336,TOTAL
267,314,330,314,330,331,267,331,$41.01
"""
    )
    got = fields(page)
    assert got["INVOICE_RECEIPT_DATE"] == "12/30/2016"
    assert got["TOTAL"] == "$41.01"
    assert got["SUBTOTAL"] == "$37.97"
    assert got["TAX"] == "$3.04"
    assert [(i["ITEM"], i["PRICE"]) for i in items(page)] == [
        ("BIBIM. OCTOPU T1", "$13.99"),
        ("S-FOOD P.CAK T1", "$14.99"),
        ("PORK DUMPLIN T1", "$8.99"),
    ]
    currency = {f["Currency"]["Code"] for f in page["SummaryFields"] if "Currency" in f}
    assert currency == {"USD"}


def test_response_shape_matches_textract() -> None:
    page = parse(BIG)
    for f in page["SummaryFields"]:
        assert set(f) <= {"Type", "LabelDetection", "ValueDetection", "PageNumber", "Currency"}
        assert 0 <= f["Type"]["Confidence"] <= 100
        box = f["ValueDetection"]["Geometry"]["BoundingBox"]
        assert set(box) == {"Width", "Height", "Left", "Top"}
        assert all(0 <= v <= 1 for v in box.values())
        assert len(f["ValueDetection"]["Geometry"]["Polygon"]) == 4
        assert f["PageNumber"] == 1
    for group in page["LineItemGroups"]:
        assert group["LineItemGroupIndex"] >= 1
        for item in group["LineItems"]:
            kinds = [x["Type"]["Text"] for x in item["LineItemExpenseFields"]]
            assert "EXPENSE_ROW" in kinds and "PRICE" in kinds


# A demo sample (receiptlake/local/samples.py) as rapidocr read it: the brand above its
# registered name, and the first item's name right under the date, its quantity row below.
GREEN_PHARMACY = """
241,45,480,45,480,71,241,71,GREEN PHARMACY
38,83,297,83,297,112,38,112,Green Pharmacy LLC
38,121,511,121,511,147,38,147,410 Market St, San Francisco, CA 94111
39,158,329,158,329,184,39,184,DATE 07/14/202612:24
38,235,213,235,213,261,38,261,TOOTHPASTE
48,272,144,272,144,299,48,299,2 x 4.11
626,272,685,272,685,300,626,300,8.22
37,310,170,310,170,337,37,337,SHAMPOO
626,387,683,387,683,413,626,413,6.68
37,538,175,538,175,565,37,565,SUBTOTAL
611,537,685,537,685,566,611,566,14.90
37,614,127,614,127,642,37,642,TOTAL
595,611,684,611,684,643,595,643,$14.90
"""


def test_a_brand_above_its_registered_name_stays_the_brand() -> None:
    # When the brand repeats the first words of the registered name on the row below
    got = fields(parse(GREEN_PHARMACY))

    # Then the brand is the name and the registered name is not glued onto it
    assert got["VENDOR_NAME"] == "GREEN PHARMACY"
    assert got["VENDOR_LEGAL_NAME"] == "Green Pharmacy LLC"


def test_the_first_items_name_under_the_date_is_not_header() -> None:
    # When the first item's name sits between the date and its quantity row
    got = items(parse(GREEN_PHARMACY))

    # Then it is an item like the others
    assert [(i["ITEM"], i["PRICE"]) for i in got] == [("TOOTHPASTE", "8.22"), ("SHAMPOO", "6.68")]
