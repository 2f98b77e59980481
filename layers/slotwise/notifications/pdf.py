"""A booking's confirmation as a PDF: what `GET /bookings/{id}/confirmation.pdf` answers and the confirmation e-mail
attaches beside its `.ics`.

It shows the reference and status, the resource, the venue with its address, the times in the booking's own time
zone (named), the guests, every line of `booking.price` (so whatever a line is for, it appears) and the total, what
was paid and refunded (the booking's payment summary), and the cancellation terms with each tier's absolute deadline
in the same zone.

fpdf2 renders it, imported only inside `render` (about 250 ms of import that no other request should pay; the tests
check that importing any handler does not load it). Text is set in DejaVu Sans, with Droid Sans Fallback added only
when the text has characters DejaVu lacks (Chinese, Japanese), so names in most scripts print as written. Limits:
right-to-left scripts (Arabic, Hebrew) print their letters unshaped and left to right (shaping would need HarfBuzz
in the layer); a character neither font has (Korean Hangul, emoji) prints as `?`, never as nothing. A Hangul font
(about 4 MB) did not fit the layer's size budget beside the Chinese/Japanese one.
Pillow, an optional fpdf2 dependency used for images only, is not shipped in the layer (infra.layer_build).
A process reads each font file once (`_parsed_font`) and every document starts from that reading: the notifier
renders one PDF per confirmation e-mail, and reading DejaVu Sans was half of each.

Cutting the embedded font down to a document's glyphs (fontTools' subsetter, in fpdf2's output step) was then most of
a PDF's CPU (about 30 of 38 ms) and most of the notifier's (docs/load-profile.md). So every document embeds the
glyphs of a fixed Latin repertoire (`REPERTOIRE`) besides its own, and a process keeps the cut font per set of glyphs
(`_SubsetOnce`): every document whose text stays within the repertoire embeds the same cut, made once. The PDF grows
from about 17 KB to about 40 KB. fpdf2 reaches the subsetter through its module's `ftsubset` name, which
`_fpdf` points at `_Subsetter`: fonts that are not a `_SubsetOnce` are cut by fontTools as before.
"""

from __future__ import annotations

import copy
import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotwise.booking import queries
from slotwise.booking.models import Booking
from slotwise.catalog.models import CancellationPolicy, Venue
from slotwise.catalog.repository import get_venue
from slotwise.identity.models import Caller
from slotwise.notifications.templates import format_money, format_span

FONTS = Path(__file__).resolve().parent / "fonts"
MAIN_FONT = FONTS / "DejaVuSans.ttf"
FALLBACK_FONT = FONTS / "DroidSansFallbackFull.ttf"
MEDIA_TYPE = "application/pdf"
# What a confirmation in a Latin script prints: ASCII, Latin-1, Latin Extended-A (Polish, Czech, Turkish... names),
# general punctuation (dashes, quotes, ellipsis) and the euro sign.
REPERTOIRE: tuple[int, ...] = (
    *range(0x20, 0x7F),
    *range(0xA0, 0x180),
    *range(0x2010, 0x2028),
    0x20AC,
)


@dataclass(frozen=True)
class ConfirmationDocument:
    """Everything the PDF prints, as text (built without fpdf2, so it is cheap to test and to reuse)."""

    reference: str
    status: str
    resource: str
    venue: str
    address: str
    when: str
    timezone: str
    guests: str
    lines: list[tuple[str, str]]  # (description, amount)
    total: str
    payments: list[tuple[str, str]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        parts = [self.reference, self.status, self.resource, self.venue, self.address, self.when, self.total]
        parts += [a for line in self.lines for a in line] + [a for line in self.payments for a in line] + self.terms
        return parts


def filename(booking: Booking) -> str:
    return f"booking-{booking.reference}.pdf"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def _address(venue: Venue | None) -> str:
    if venue is None:
        return ""
    return ", ".join(part for part in (venue.address, venue.city, venue.country or "") if part)


def _terms(booking: Booking, zone: ZoneInfo) -> list[str]:
    policy = booking.cancellation_policy or CancellationPolicy()
    currency = booking.price.currency
    found = []
    for tier in sorted(policy.tiers, key=lambda t: t.min_hours_before, reverse=True):
        deadline = booking.start_time - timedelta(hours=tier.min_hours_before)
        found.append(f"Cancel before {_local(deadline, zone)}: {tier.percent}% of what you paid is refunded")
    found.append("Later cancellations: no refund" if policy.tiers else "Cancellations: no refund")
    if policy.fee:
        found.append(f"A fee of {format_money(policy.fee, currency)} is kept from any refund")
    found.append(f"Refunds go to your {policy.default_refund_to} unless you choose otherwise when cancelling")
    return found


def _payments(booking: Booking) -> list[tuple[str, str]]:
    summary = booking.payment
    if summary is None:
        return [("Not paid yet", "")]
    found = []
    if summary.card_amount:
        found.append(("Paid by card", format_money(summary.card_amount, summary.currency)))
    if summary.wallet_amount:
        found.append(("Paid from wallet", format_money(summary.wallet_amount, summary.currency)))
    found.append(("Total paid", format_money(summary.amount_paid, summary.currency)))
    if summary.amount_refunded:
        found.append(("Refunded", format_money(-summary.amount_refunded, summary.currency)))
    return found


def document(booking: Booking, venue: Venue | None) -> ConfirmationDocument:
    zone = _zone(booking.timezone)
    currency = booking.price.currency
    if booking.check_in is not None and booking.check_out is not None:
        nights = (booking.check_out - booking.check_in).days
        when = (
            f"{booking.check_in:%Y-%m-%d} to {booking.check_out:%Y-%m-%d} ({nights} night{'s' if nights != 1 else ''})"
            f"; check-in {_local(booking.start_time, zone)}, check-out {_local(booking.end_time, zone)}"
        )
    else:
        when = format_span(booking.start_time, booking.end_time, zone.key)
    lines = [
        (
            f"{line.description} ({line.units} x {format_money(line.unit_price, currency)})",
            format_money(line.amount, currency),
        )
        for line in booking.price.lines
    ]
    return ConfirmationDocument(
        reference=booking.reference,
        status=booking.status.replace("_", " "),
        resource=booking.resource_name,
        venue=venue.name if venue else "",
        address=_address(venue),
        when=when,
        timezone=zone.key,
        guests=str(booking.guests) if booking.guests is not None else "not given",
        lines=lines,
        total=format_money(booking.price.amount, currency),
        payments=_payments(booking),
        terms=_terms(booking, zone),
    )


@cache
def _covers(font_file: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_file), lazy=True) as font:
        return frozenset(font.getBestCmap())


def needs_fallback(texts: list[str]) -> bool:
    covered = _covers(MAIN_FONT)
    return any(ord(c) not in covered for text in texts for c in text if not c.isspace())


def printable(text: str, covered: frozenset[int]) -> str:
    """The text with what no bundled font can draw (Hangul, emoji, private use) shown as `?`, so a
    name never prints as blank boxes or vanishes silently."""
    return "".join(c if c.isspace() or ord(c) in covered else "?" for c in text)


def _fpdf() -> Any:
    with warnings.catch_warnings():
        # fpdf2 warns at import that Pillow is missing: images are not used here, and the layer ships without it.
        warnings.simplefilter("ignore", UserWarning)
        import fpdf
    import fpdf.output
    from fontTools import subset

    fpdf.output.ftsubset = SimpleNamespace(Options=subset.Options, Subsetter=_Subsetter)  # type: ignore[attr-defined]
    return fpdf


@dataclass(frozen=True)
class _Options:
    """fpdf2's subsetting options, hashable by their values (the cache's key)."""

    key: str
    options: Any = field(compare=False, hash=False)

    @classmethod
    def of(cls, options: Any) -> _Options:
        return cls(repr(sorted(vars(options).items())), options)


@dataclass(frozen=True)
class _Cut:
    data: bytes  # the cut font file, as fpdf2 embeds it
    glyph_ids: dict[str, int]  # glyph name -> id in the cut font


@lru_cache(maxsize=32)
def _cut(font_file: Path, glyphs: frozenset[str], options: _Options) -> _Cut:
    """fontTools' cut of `font_file` to `glyphs`, as fpdf2's output step would make it."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_file), recalcTimestamp=False, lazy=True)
    subsetter = subset.Subsetter(options.options)
    subsetter.populate(glyphs=sorted(glyphs))
    subsetter.subset(font)
    saved = io.BytesIO()
    font.save(saved)
    return _Cut(saved.getvalue(), {name: font.getGlyphID(name) for name in glyphs})


class _SubsetOnce:
    """Stands for the font file in fpdf2's output step, which cuts it (`subset`), asks glyph ids (`getGlyphID`),
    writes it (`save`) and closes it, and nothing else for a TrueType font: the cut comes from the process's `_cut`
    cache."""

    def __init__(self, font_file: Path) -> None:
        self.font_file = font_file
        self._cut: _Cut | None = None

    def cut_to(self, glyphs: frozenset[str], options: Any) -> None:
        self._cut = _cut(self.font_file, glyphs, _Options.of(options))

    def getGlyphID(self, name: str) -> int:  # fontTools' name
        assert self._cut is not None, "fpdf2 cuts a font before asking its glyph ids"
        return self._cut.glyph_ids[name]

    def save(self, file: io.BytesIO) -> None:
        assert self._cut is not None, "fpdf2 cuts a font before writing it"
        file.write(self._cut.data)

    def close(self) -> None:
        """Nothing is open: the cut is bytes."""


class _Subsetter:
    """fontTools' `Subsetter` as fpdf2 uses it (`Subsetter(options)`, `populate(glyphs=...)`, `subset(font)`);
    a `_SubsetOnce` gets the cached cut, any other font fontTools' own."""

    def __init__(self, options: Any) -> None:
        self.options = options
        self.glyphs: frozenset[str] = frozenset()

    def populate(self, *, glyphs: Any) -> None:
        self.glyphs = frozenset(glyphs)

    def subset(self, font: Any) -> None:
        if isinstance(font, _SubsetOnce):
            font.cut_to(self.glyphs, self.options)
            return
        from fontTools import subset

        subsetter = subset.Subsetter(self.options)
        subsetter.populate(glyphs=sorted(self.glyphs))
        subsetter.subset(font)


@cache
def _parsed_font(family: str, font_file: Path) -> Any:
    """fpdf2's reading of a font file (metrics, widths, glyph ids, descriptor), made once per process: reading
    DejaVu Sans (6,000 glyphs) was half of a confirmation's PDF time, paid on every confirmation e-mail."""
    pdf = _fpdf().FPDF()
    pdf.add_font(family, fname=str(font_file))
    return pdf.fonts[family.lower()]


def _add_font(pdf: Any, family: str, font_file: Path) -> None:
    """`pdf.add_font(family, fname=font_file)`, from the process's reading of the file (`_parsed_font`).

    What one document changes is its own: the subset of glyphs it used (the cut of the embedded font to them comes
    from the process's cache through `_SubsetOnce`), its font number, missing glyphs, largest size, and the
    descriptor it numbers on output. What is shared (widths, cmap, glyph ids) is only
    read. Written against fpdf2 2.8.9 (pinned); tests/unit/notifications/test_confirmation_pdf.py compares the
    result with fpdf2's own add_font."""
    from fpdf.fonts import SubsetMap, TTFFont

    parsed = _parsed_font(family, font_file)
    font = TTFFont.__new__(TTFFont)
    for slot in TTFFont.__slots__:
        if hasattr(parsed, slot):
            setattr(font, slot, getattr(parsed, slot))
    font.i = len(pdf.fonts) + 1
    font.ttfont = _SubsetOnce(font_file)
    font.desc = copy.copy(parsed.desc)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)
    pdf.fonts[font.fontkey] = font


def _pick_repertoire(font: Any, covered: frozenset[int]) -> None:
    """The repertoire first, in one order: documents within it embed one cut of the font, with the same codes."""
    for code in REPERTOIRE:
        if code in covered:
            font.subset.pick(code)


def render(doc: ConfirmationDocument, *, reuse_fonts: bool = True) -> bytes:
    """The PDF's bytes (A4, one page for any ordinary booking; longer price lists flow onto more pages).
    `reuse_fonts=False` reads the font files afresh with fpdf2's own add_font (the tests compare the two)."""
    fpdf = _fpdf()
    from fpdf.enums import XPos, YPos

    def add_font(family: str, font_file: Path) -> None:
        if reuse_fonts:
            _add_font(pdf, family, font_file)
        else:
            pdf.add_font(family, fname=str(font_file))

    pdf = fpdf.FPDF(format="A4")
    pdf.set_title(f"Booking {doc.reference}")
    pdf.set_creator("Slotwise")
    add_font("DejaVu", MAIN_FONT)
    covered = _covers(MAIN_FONT)
    _pick_repertoire(pdf.fonts["dejavu"], covered)
    if needs_fallback(doc.texts()):
        add_font("DroidFallback", FALLBACK_FONT)
        pdf.set_fallback_fonts(["DroidFallback"])
        covered = covered | _covers(FALLBACK_FONT)
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", size=size)
        pdf.multi_cell(width, 8, printable(text, covered), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", size=10)

    def row(label: str, value: str) -> None:
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(width * 0.72, 6, printable(label, covered), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.multi_cell(width * 0.28, 6, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fact(label: str, value: str) -> None:
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(width * 0.22, 6, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.multi_cell(width * 0.78, 6, printable(value, covered) or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(f"Booking confirmation {doc.reference}", 16)
    fact("Reference", doc.reference)
    fact("Status", doc.status)
    fact("Resource", doc.resource)
    fact("Venue", doc.venue)
    fact("Address", doc.address)
    fact("When", doc.when)
    fact("Time zone", doc.timezone)
    fact("Guests", doc.guests)
    heading("Price")
    for label, amount in doc.lines:
        row(label, amount)
    row("Total", doc.total)
    heading("Payments and refunds")
    for label, amount in doc.payments:
        row(label, amount)
    heading("Cancellation terms")
    for term in doc.terms:
        pdf.multi_cell(width, 6, f"- {printable(term, covered)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def of_booking(booking: Booking) -> bytes:
    return render(document(booking, get_venue(booking.venue_id)))


def for_caller(caller: Caller, booking_id: str) -> tuple[str, bytes]:
    """The confirmation of a booking the caller may read (the rules of GET /bookings/{id}: anyone else's is a 404),
    and its file name."""
    booking = queries.get_booking(caller, booking_id)
    return filename(booking), of_booking(booking)
