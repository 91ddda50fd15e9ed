"""Line-item categories: a small Protocol the trained model implements, and a keyword
baseline that ships until it does (and that the model must beat)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from lambda_src.common.categories import CATEGORY_SLUGS
from lambda_src.common.model import UNCATEGORIZED, Receipt

# The category vocabulary the product shows (docs/categories.md); the model's too.
CATEGORIES: tuple[str, ...] = (*CATEGORY_SLUGS, UNCATEGORIZED)


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float  # 0..1


class Categorizer(Protocol):
    """Anything that puts line-item descriptions into CATEGORIES."""

    def predict(self, descriptions: Sequence[str], *, vendor: str | None = None) -> list[Prediction]:
        """One prediction per description, in order."""
        ...


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


# Keyword stems per category. Receipt printers abbreviate and OCR glues words together
# ("ottogicheeseramen"), so stems of 4+ letters match anywhere in a word; shorter ones
# must be a whole word ("tv", "gas").
KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "groceries_fresh": _words(
        "milk, bread, egg, eggs, cheese, chees, butter, yogurt, yoghurt, chicken, beef, pork, "
        "fish, tuna, salmon, ham, bacon, sausage, banana, apple, orange, tomato, potato, onion, "
        "garlic, fruit, veg, lettuce, carrot, kalamansi, produce, deli, dairy, meat"
    ),
    "groceries_pantry": _words(
        "rice, flour, sugar, salt, oil, ramen, noodle, pasta, cereal, oat, biscuit, cookie, "
        "chips, crisps, snack, choc, candy, sauce, ketchup, ctsup, mayo, soup, curry, spice, "
        "pepper, vinegar, frozen, nestle, oyster, peanut, dessert, cake, mix, grocery, bbq"
    ),
    "groceries_drinks": _words("juice, water, soda, cola, coffee, tea, cocoa, ovaltine"),
    "dining": _words(
        "burger, pizza, sandwich, taco, burrito, fries, meal, combo, entree, appetizer, "
        "dosa, sushi, latte, cappuccino, espresso, americano, mocha, frappe, steak, "
        "wings, salad, dine, takeaway, take out, buffet, kebab, nasi, mee, roti"
    ),
    "alcohol_tobacco": _words(
        "beer, wine, vodka, whisky, whiskey, gin, rum, lager, ale, cider, cigarette, tobacco"
    ),
    "shopping": _words(
        "tv, flatscreen, laptop, hdmi, cable, usb, charger, phone, iphone, ipad, sony, "
        "samsung, lg, apple tv, headphone, earbud, speaker, battery, batteries, monitor, "
        "keyboard, mouse, printer, camera, vaio, viao, i7, ssd, router, paper, pen, pencil, "
        "stapler, envelope, ink, toner, notebook, folder, binder, stationery, shirt, tshirt, "
        "jeans, pants, dress, shoe, shoes, sock, jacket, hoodie"
    ),
    "household": _words(
        "detergent, bleach, soap, dish, sponge, towel, tissue, toilet, ply, trash, "
        "garbage, bag, foil, wrap, cleaner, clean, wash, fwash, muscle, sanicare, "
        "starchware, light bulb, bulb, hardware, screw, nail, paint, tool, plumbing, "
        "pipe, hose"
    ),
    "personal_care": _words(
        "shampoo, conditioner, toothpaste, toothbrush, deodorant, lotion, razor, "
        "cosmetic, makeup, lipstick, perfume, sunscreen, haircut"
    ),
    "health": _words(
        "pharmacy, drug, medic, tablet, capsule, vitamin, aspirin, ibuprofen, "
        "paracetamol, clinic, doctor, dental, chiropractic, therapy, laboratory, lab, "
        "radiology, scan, emergency, hospital, surg, hematology, treatment, ekg, ecg, "
        "urology, bacteriology, ccu, observation"
    ),
    "transport": _words(
        "fuel, petrol, diesel, unleaded, gasoline, gas, ron95, ron97, pump, parking, toll, "
        "taxi, uber, lyft, grab, fare, train, bus, metro"
    ),
    "travel": _words("airline, flight, hotel, hostel, booking, luggage"),
    "entertainment": _words("movie, cinema, concert, game, netflix, spotify, book, toy, ticket"),
    "utilities_services": _words(
        "service, support, training, customization, customizing, consult, installation, "
        "repair, labor, labour, hours, imports, delivery, accounting, software, subscription, "
        "license, fee, charge, surcharge, deposit, adjustment, rounding"
    ),
}

# Vendor words that say what most of a shop's lines are.
VENDOR_KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "groceries_pantry": _words("market, mart, grocer, supermarket, costco, walmart, tesco, aldi, lidl"),
    "dining": _words("restaurant, cafe, coffee, bistro, kitchen, grill, diner, bar, pizzeria"),
    "health": _words("clinic, hospital, pharmacy, medical, dental, health"),
    "transport": _words("petrol, shell, chevron, exxon, fuel, gas station, petronas"),
    "shopping": _words("electronics, bigbox, best buy, office, staples, stationery"),
}

BASE_CONFIDENCE = 0.55
PER_EXTRA_HIT = 0.1
MAX_CONFIDENCE = 0.85
VENDOR_CONFIDENCE = 0.4


def _compile(words: Sequence[str]) -> re.Pattern[str]:
    parts = [re.escape(w) if len(w) >= 4 else rf"(?<![a-z]){re.escape(w)}(?![a-z])" for w in words]
    return re.compile("|".join(parts))


_ITEM_PATTERNS = {category: _compile(words) for category, words in KEYWORDS.items()}
_VENDOR_PATTERNS = {category: _compile(words) for category, words in VENDOR_KEYWORDS.items()}


def _best(text: str, patterns: Mapping[str, re.Pattern[str]]) -> tuple[str, int] | None:
    """(category, number of keyword hits); longer keywords are more specific, so the
    category whose matches cover most characters wins ("apple tv" over "apple")."""
    lowered = text.lower()
    matches = {c: p.findall(lowered) for c, p in patterns.items()}
    category, found = max(matches.items(), key=lambda kv: sum(len(m) for m in kv[1]))
    return (category, len(found)) if found else None


class KeywordCategorizer:
    """The baseline: keyword stems per category, the vendor's kind as a fallback."""

    def predict(self, descriptions: Sequence[str], *, vendor: str | None = None) -> list[Prediction]:
        fallback = _best(vendor or "", _VENDOR_PATTERNS)
        out: list[Prediction] = []
        for description in descriptions:
            match = _best(description, _ITEM_PATTERNS)
            if match is not None:
                category, hits = match
                confidence = min(BASE_CONFIDENCE + PER_EXTRA_HIT * (hits - 1), MAX_CONFIDENCE)
                out.append(Prediction(category, confidence))
            elif fallback is not None:
                out.append(Prediction(fallback[0], VENDOR_CONFIDENCE))
            else:
                out.append(Prediction(UNCATEGORIZED, 0.0))
        return out


def categorize(receipt: Receipt, categorizer: Categorizer) -> Receipt:
    """The receipt with each line item's category and the receipt's own category (the one
    holding most of the money; the vendor's kind when there are no items)."""
    descriptions = [item.description for item in receipt.line_items]
    predictions = categorizer.predict(descriptions, vendor=receipt.vendor.name) if descriptions else []
    if len(predictions) != len(descriptions):
        raise ValueError("the categorizer must return one prediction per line item")
    items = [
        item.model_copy(update={"category": p.category, "category_confidence": round(p.confidence, 4)})
        for item, p in zip(receipt.line_items, predictions, strict=True)
    ]
    weights: dict[str, Decimal] = {}
    for item in items:
        if item.category and item.category != UNCATEGORIZED:
            weights[item.category] = weights.get(item.category, Decimal(0)) + abs(item.amount or Decimal(0))
    if weights:
        category: str | None = max(weights.items(), key=lambda kv: kv[1])[0]
    else:
        vendor_guess = categorizer.predict([receipt.vendor.name or ""], vendor=receipt.vendor.name)
        category = vendor_guess[0].category if vendor_guess else None
        category = None if category == UNCATEGORIZED else category
    return receipt.model_copy(update={"line_items": items, "category": category})
