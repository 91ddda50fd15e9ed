"""The web app in a real browser against local mode (issue 7).

Local mode runs as a person starts it (`receiptlake local up`, sample receipts included) and
serves the built web app (webapp/dist). Chromium signs in through the Amplify Authenticator
against moto's Cognito, uploads a real receipt photo, corrects it, watches the analytics
move by the difference and exports CSV. Screenshots of every step are kept under
test-artifacts/e2e/<test>/; console errors and uncaught page errors fail the test.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Response, expect, sync_playwright

from lambda_src.api.insights import write_insights
from lambda_src.api.schemas import Anomaly, Driver, Forecast, InsightSet
from receiptlake.local.provision import client
from receiptlake.local.running import find_running
from receiptlake.local.samples import SHOPS
from tests.e2e.conftest import REPO_ROOT, LocalMode

pytestmark = pytest.mark.e2e

DIST_INDEX = REPO_ROOT / "webapp" / "dist" / "index.html"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RECEIPT = Path(__file__).resolve().parents[1] / "fixtures" / "reader" / "sroie_X51009453801.jpg"
RECEIPT_TOTAL = Decimal("102.00")  # printed on the receipt; see tests/fixtures/reader/SOURCE.txt
CORRECTION = Decimal("10.00")  # added to the total by the "person" correcting it
CORRECTED_VENDOR = "GL Handicraft & Tailoring (e2e)"
TERMINAL_PHASES = ("done", "failed", "timeout", "cancelled")
UPLOAD_SECONDS = 60
STEP_TIMEOUT_MS = 20_000
DEMO = "demo@receiptlake.local"


@pytest.fixture(scope="module")
def built_webapp() -> Path:
    if not DIST_INDEX.exists():
        pytest.fail(
            f"{DIST_INDEX.relative_to(REPO_ROOT)} is missing: the browser tests need the built web app. "
            "Run `make webapp` (or `make test`, which builds it first).",
            pytrace=False,
        )
    return DIST_INDEX


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make system` (or `apt-get install -y chromium`) installs Debian's "
            "Chromium. The tests never download a browser.",
            pytrace=False,
        )
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site(built_webapp: Path, seeded_local_mode: LocalMode) -> LocalMode:
    assert DEMO in seeded_local_mode.users, seeded_local_mode.output
    return seeded_local_mode


@dataclass
class Session:
    """One browser page with its screenshots, step timings and console problems."""

    page: Page
    artifacts: Path
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    shots: int = 0

    def step(self, name: str) -> None:
        """Record how long the scenario has taken so far and keep a screenshot."""
        self.shots += 1
        elapsed = time.monotonic() - self.started
        path = self.artifacts / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True)
        self.notes.append(f"{elapsed:6.1f} s  {path.name}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.errors.append(f"console.error: {message.text} ({where})")

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error.name}: {error.message}")


@pytest.fixture
def session(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Session]:
    artifacts = ARTIFACTS / request.node.name
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    phone = request.node.name.startswith("test_phone")  # 390 × 844, touch, mobile viewport
    context = browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
        device_scale_factor=1,
        is_mobile=phone,
        has_touch=phone,
        locale="en-US",
        timezone_id="UTC",
        accept_downloads=True,
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    s = Session(page=page, artifacts=artifacts)
    page.on("console", s.on_console)
    page.on("pageerror", s.on_page_error)
    try:
        yield s
    finally:
        try:
            page.screenshot(path=artifacts / "zz-last.png", full_page=True)  # pass or fail
        except Error as exc:  # a crashed page must not hide the test's own failure
            s.notes.append(f"no last screenshot: {exc.message}")
        (artifacts / "steps.txt").write_text("\n".join([*s.notes, *s.errors, ""]))
        print("\n".join(s.notes))
        context.close()


def sign_in(s: Session, site: LocalMode) -> None:
    page = s.page
    page.goto(site.url)
    form = page.get_by_test_id("sign-in")
    expect(form).to_be_visible()
    s.step("sign-in")
    # exact: the Authenticator's "Show password" switch is labelled "Password" too
    form.get_by_label("Email", exact=True).fill(DEMO)
    form.get_by_label("Password", exact=True).fill(site.users[DEMO])
    form.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Upload receipts")).to_be_visible()
    expect(page.get_by_text(DEMO)).to_be_visible()


def id_token(page: Page) -> str:
    """The ID token Amplify keeps for the signed-in user, for API checks beside the UI."""
    token = page.evaluate(
        """() => Object.keys(localStorage)
              .filter((k) => k.startsWith('CognitoIdentityServiceProvider.') && k.endsWith('.idToken'))
              .map((k) => localStorage.getItem(k))[0] ?? null"""
    )
    assert isinstance(token, str) and token, "Amplify kept no ID token in localStorage"
    return token


def api_month_total(site: LocalMode, token: str, month: str, currency: str) -> Decimal:
    summary: dict[str, Any] = httpx.get(
        f"{site.url}/api/analytics/summary",
        params={"from": month, "to": month, "group": "month"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return sum((Decimal(c["total"]) for c in summary["currencies"] if c["currency"] == currency), Decimal(0))


def amount(text: str) -> Decimal:
    """'MYR 1,102.00' (en-US) → Decimal('1102.00')."""
    match = re.search(r"-?[\d,]+(?:\.\d+)?", text)
    assert match, f"no amount in {text!r}"
    return Decimal(match.group(0).replace(",", ""))


def analytics_for_month(s: Session, month: str) -> tuple[Decimal, str]:
    """The Analytics page for one month: MYR spent (trend table) and the top vendors text."""
    page = s.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1, name="Analytics")).to_be_visible()
    period = page.get_by_role("form", name="Period")
    period.get_by_label("From month").fill(month)
    period.get_by_label("To month").fill(month)

    def summary_of(group: str) -> Callable[[Response], bool]:
        wanted = ("/api/analytics/summary?", f"from={month}", f"group={group}")
        return lambda response: all(part in response.url for part in wanted)

    # The page keeps showing the previous period until all three summaries are in: wait for
    # them and for the spinners to go, or the figures read below could be the old period's.
    with (
        page.expect_response(summary_of("month")),
        page.expect_response(summary_of("category")),
        page.expect_response(summary_of("vendor")),
    ):
        period.get_by_role("button", name="Update").click()
    expect(page.locator(".analytics .loading")).to_have_count(0)
    currency = period.get_by_label("Currency")
    if currency.count():  # only when the month has more than one currency
        currency.select_option("MYR")
    expect(page.get_by_text(re.compile(r"amounts in MYR\."))).to_be_visible()
    trend = page.get_by_test_id("chart-trend")
    trend.get_by_text("Show as a table").click()
    year, number = month.split("-")
    label = time.strftime("%b %Y", time.strptime(f"{year}-{number}-01", "%Y-%m-%d"))
    row = trend.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=label))
    expect(row).to_have_count(1)
    spent = row.locator("td").first.inner_text()
    vendors = page.get_by_test_id("top-vendors")
    expect(vendors.locator("li").first).to_be_visible()
    return amount(spent), vendors.inner_text()


def test_sign_in_upload_correct_and_export(site: LocalMode, session: Session) -> None:
    s, page = session, session.page

    # 1. Sign in with the printed demo credentials (real USER_PASSWORD_AUTH against moto)
    sign_in(s, site)
    s.step("signed-in")

    # 2. The sample receipts are listed
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Receipts").click()
    expect(page.get_by_role("heading", level=1, name="Receipts")).to_be_visible()
    rows = page.get_by_test_id("all-receipts").get_by_test_id("receipt-row")
    expect(rows.nth(9)).to_be_visible()  # a first page of samples, not one or two
    shown = page.get_by_test_id("all-receipts").inner_text().upper()
    seeded = {shop.name.upper() for shop in SHOPS}
    assert len({name for name in seeded if name in shown}) >= 3, shown
    s.step("receipts")

    # 3. Upload a real receipt photo and watch it get read
    nav.get_by_role("link", name="Upload").click()
    expect(page.get_by_role("heading", level=1, name="Upload receipts")).to_be_visible()
    page.get_by_test_id("file-input").set_input_files(RECEIPT)
    item = page.get_by_test_id("upload-item").filter(has_text=RECEIPT.name)
    expect(item).to_have_count(1)
    s.step("uploading")
    terminal = re.compile(f"^({'|'.join(TERMINAL_PHASES)})$")
    expect(item).to_have_attribute("data-phase", terminal, timeout=UPLOAD_SECONDS * 1000)
    s.step("uploaded")
    assert item.get_attribute("data-phase") == "done", item.inner_text()
    receipt_id = item.get_attribute("data-receipt-id")
    assert receipt_id, item.inner_text()
    badge = item.get_by_test_id("status-badge")
    assert badge.get_attribute("data-status") in ("PROCESSED", "NEEDS_REVIEW"), item.inner_text()
    token = id_token(page)

    # 4. Open it and correct the total and the vendor in place
    item.get_by_role("link", name="View receipt").click()
    expect(page).to_have_url(re.compile(f"#/receipts/{receipt_id}$"))
    fields = page.get_by_role("form", name="Receipt fields")
    total = fields.get_by_label("Total", exact=True)
    expect(total).to_have_value(str(RECEIPT_TOTAL))
    expect(fields.get_by_label("Currency", exact=True)).to_have_value("MYR")
    purchase_date = fields.get_by_label("Purchase date", exact=True).input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", purchase_date), purchase_date
    month = purchase_date[:7]
    expect(page.get_by_test_id("receipt-image")).to_be_visible()
    s.step("receipt")

    spent_before, vendors_before = analytics_for_month(s, month)
    assert spent_before == api_month_total(site, token, month, "MYR")
    assert spent_before >= RECEIPT_TOTAL
    assert CORRECTED_VENDOR not in vendors_before
    s.step("analytics-before")

    page.go_back()
    expect(page).to_have_url(re.compile(f"#/receipts/{receipt_id}$"))
    corrected_total = RECEIPT_TOTAL + CORRECTION
    fields = page.get_by_role("form", name="Receipt fields")
    fields.get_by_label("Total", exact=True).fill(str(corrected_total))
    fields.get_by_label("Vendor", exact=True).fill(CORRECTED_VENDOR)
    s.step("editing")
    fields.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name=CORRECTED_VENDOR)).to_be_visible()
    expect(page.get_by_test_id("field-total")).to_contain_text("(corrected)")
    expect(page.get_by_test_id("field-total").locator("input")).to_have_value(str(corrected_total))
    s.step("saved")

    # ... and the analytics move by the difference, on the page and in the API
    spent_after, vendors_after = analytics_for_month(s, month)
    assert spent_after - spent_before == CORRECTION
    assert spent_after == api_month_total(site, token, month, "MYR")
    assert CORRECTED_VENDOR in vendors_after, vendors_after
    s.step("analytics-after")

    # 5. Export CSV from Settings: the download has the corrected receipt
    nav.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1, name="Settings")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    csv_path = s.artifacts / download.suggested_filename
    download.save_as(csv_path)
    exported = csv_path.read_text(encoding="utf-8-sig")
    ours = [row for row in csv.DictReader(io.StringIO(exported)) if row["receipt_id"] == receipt_id]
    assert ours, exported[:2000]  # one row per line item
    assert {(r["vendor"], r["total"]) for r in ours} == {(CORRECTED_VENDOR, str(corrected_total))}, ours
    expect(page.get_by_role("status").filter(has_text="Downloaded")).to_be_visible()
    s.step("exported")

    # 7. No console errors and no uncaught exceptions along the way
    assert s.errors == []


def test_phone_width(site: LocalMode, session: Session) -> None:
    """390 px wide (a phone): single column, no sideways scrolling, the same flow works."""
    s, page = session, session.page

    def fits() -> None:
        # Against the configured width, not window.innerWidth: a mobile browser widens its
        # layout viewport to fit content that overflows, so innerWidth grows with the page.
        viewport = page.viewport_size
        assert viewport is not None
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"page is {width} px wide on a {viewport['width']} px phone"

    sign_in(s, site)
    fits()
    s.step("upload")

    page.goto(f"{site.url}/#/receipts")
    rows = page.get_by_test_id("all-receipts").get_by_test_id("receipt-row")
    expect(rows.nth(4)).to_be_visible()
    fits()
    s.step("receipts")

    # a sample with line items: a table wider than a phone, which must scroll inside its card
    rows.filter(has=page.locator("[data-testid=status-badge][data-status=PROCESSED]")).first.click()
    expect(page.get_by_role("form", name="Receipt fields")).to_be_visible()
    expect(page.get_by_test_id("receipt-image")).to_be_visible()
    expect(page.get_by_test_id("line-item").first).to_be_visible()
    fits()
    s.step("receipt")

    page.goto(f"{site.url}/#/analytics")
    expect(page.get_by_test_id("chart-trend").locator("svg.recharts-surface").first).to_be_visible()
    fits()
    s.step("analytics")

    page.goto(f"{site.url}/#/settings")
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    fits()
    s.step("settings")

    assert s.errors == []


# ---- insights and category corrections (the ML layer's output, shown to a person) ----------


def token_sub(token: str) -> str:
    """The Cognito ``sub`` in an ID token (the API verifies it; here it only names the user)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


def api_get(site: LocalMode, token: str, path: str, **params: str) -> Any:
    response = httpx.get(f"{site.url}/api{path}", params=params, headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return response.json()


def month_after(day: date, months: int) -> str:
    index = day.year * 12 + day.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def sample_insights(currencies: list[str], receipt_ids: dict[str, str], month: str) -> InsightSet:
    """Forecasts (all spending and two categories) and a category anomaly with vendor drivers
    per currency, as a training run writes them."""
    forecasts: list[Forecast] = []
    anomalies: list[Anomaly] = []
    for currency in currencies:
        forecasts += [
            Forecast(
                currency=currency,
                month=month,
                category=None,
                predicted=Decimal("420.00"),
                lower=Decimal("350.00"),
                upper=Decimal("505.50"),
            ),
            Forecast(
                currency=currency,
                month=month,
                category="groceries_fresh",
                predicted=Decimal("120.00"),
                lower=Decimal("95.00"),
                upper=Decimal("150.00"),
            ),
            Forecast(
                currency=currency,
                month=month,
                category="dining",
                predicted=Decimal("80.00"),
                lower=Decimal("40.00"),
                upper=Decimal("130.00"),
            ),
        ]
        anomalies.append(
            Anomaly(
                kind="category",
                month=month_after(date.today(), -1),
                category="dining",
                currency=currency,
                amount=Decimal("245.00"),
                expected=Decimal("60.00"),
                explanation=f"Dining out last month was about 4 times your usual ({currency}, e2e).",
                score=4.2,
                drivers=[
                    Driver(
                        kind="vendor",
                        label="Harbour Wine Bar",
                        amount=Decimal("180.00"),
                        receipt_id=receipt_ids.get(currency),
                    ),
                    Driver(kind="vendor", label="Bistro Nine", amount=Decimal("65.00")),
                ],
            )
        )
    return InsightSet(forecasts=forecasts, anomalies=anomalies)


def test_insights_and_category_correction(site: LocalMode, session: Session) -> None:
    s, page = session, session.page
    sign_in(s, site)
    token = id_token(page)

    # 1. A training run publishes this user's insights (into local mode's table, live)
    running = find_running(site.state_dir)
    assert running is not None, "local mode did not announce where it runs"
    today = date.today()
    summary = api_get(
        site,
        token,
        "/analytics/summary",
        group="month",
        **{"from": month_after(today, -11), "to": month_after(today, 0)},
    )
    currencies = [c["currency"] for c in summary["currencies"]]
    assert currencies, summary
    listed = api_get(site, token, "/receipts", status="PROCESSED")["items"]
    with_items = [r for r in listed if r["line_items"] and r["line_items"][0]["description"]]
    assert with_items, "no processed sample receipt with line items"
    receipt_ids: dict[str, str] = {}
    for r in with_items:
        receipt_ids.setdefault(r["currency"], r["receipt_id"])
    forecast_month = month_after(today, 1)
    write_insights(
        client("dynamodb", running.endpoint, running.region),
        running.table,
        token_sub(token),
        model_version="e2e",
        generated_at=datetime.now(UTC).isoformat(),
        insights=sample_insights(currencies, receipt_ids, forecast_month),
    )

    # 2. The Analytics page draws them: the forecast with its interval, per category, the anomaly
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1, name="Analytics")).to_be_visible()
    shown = re.search(
        r"amounts in ([A-Z]{3})\.", page.get_by_text(re.compile(r"amounts in [A-Z]{3}\.")).inner_text()
    )
    assert shown, "the page names no currency"
    currency = shown.group(1)
    trend = page.get_by_role("region", name="Spending trend and forecast")
    expect(trend.get_by_role("img", name=f"Monthly spend in {currency} and the forecast")).to_be_visible()
    expect(trend.locator("svg.recharts-surface").first).to_be_visible()
    expect(trend.locator(".recharts-errorBar")).to_have_count(1)
    label = time.strftime("%b %Y", time.strptime(f"{forecast_month}-01", "%Y-%m-%d"))
    expect(trend.get_by_test_id("forecast-summary")).to_contain_text(f"{label}: about ")
    expect(trend.get_by_test_id("forecast-summary")).to_contain_text("(80% interval)")

    by_category = page.get_by_role("region", name="Next month by category")
    expect(by_category.locator("svg.recharts-surface").first).to_be_visible()
    expect(by_category.locator(".recharts-errorBar")).to_have_count(2)
    by_category.get_by_text("Show as a table").click()
    expect(by_category.get_by_role("rowheader")).to_have_text(["Groceries: fresh", "Dining out"])

    unusual = page.get_by_role("region", name="Unusual spending")
    card = unusual.get_by_role("article").filter(has_text="about 4 times your usual")
    expect(card).to_have_count(1)
    expect(
        card.get_by_text(f"Dining out last month was about 4 times your usual ({currency}, e2e).")
    ).to_be_visible()
    expect(card).to_contain_text("usually about")
    drivers = card.get_by_role("img", name=re.compile("What made .* stand out"))
    expect(drivers.locator(".recharts-bar-rectangle")).to_have_count(2)
    # a long label wraps onto two lines (two tspans), so allow any space between its words
    expect(drivers).to_contain_text(re.compile(r"Harbour\s*Wine\s*Bar"))
    expect(drivers).to_contain_text("Bistro Nine")
    if currency in receipt_ids:
        expect(card.get_by_role("link", name="Open the receipt: Harbour Wine Bar")).to_have_attribute(
            "href", f"#/receipts/{receipt_ids[currency]}"
        )
    s.step("insights")

    # 3. Correcting one item's category on a receipt saves it at once, for good
    receipt = with_items[0]
    rid, item = receipt["receipt_id"], receipt["line_items"][0]
    chosen = "health" if item["category"] != "health" else "travel"
    page.goto(f"{site.url}/#/receipts/{rid}")
    select = page.get_by_label("Category, item 1", exact=True)
    expect(select).to_be_visible()
    s.step("receipt-before")
    select.select_option(chosen)
    expect(
        page.get_by_role("status").filter(has_text=f"Saved: “{item['description']}” is now")
    ).to_be_visible()
    expect(page.get_by_test_id("item-category-status").first).to_have_text("✓ Saved")
    s.step("category-saved")
    page.reload()
    expect(page.get_by_label("Category, item 1", exact=True)).to_have_value(chosen)
    expect(page.get_by_test_id("line-items")).to_contain_text("(corrected)")
    s.step("category-reloaded")
    stored = api_get(site, token, f"/receipts/{rid}")["receipt"]
    assert stored["line_items"][0]["category"] == chosen
    assert stored["line_items"][0]["category_confidence"] is None  # a person chose it
    assert [i["description"] for i in stored["line_items"]] == [
        i["description"] for i in receipt["line_items"]
    ]
    assert "line_items" in stored["corrected_fields"]

    assert s.errors == []
