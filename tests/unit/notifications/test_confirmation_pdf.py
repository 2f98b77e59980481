"""The booking's PDF confirmation: through the bookings handler (binary through API Gateway, the access rules of the
booking), read back with pypdf (an independent parser), attached to the confirmation e-mail, and kept out of every
handler's cold start."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from slotwise.booking import create
from slotwise.booking import store as booking_store
from slotwise.booking.models import Booking, BookingCreate, BookingPayment
from slotwise.catalog import repository
from slotwise.events.envelope import DomainEvent
from slotwise.identity.models import Caller
from slotwise.notifications import pdf, service
from tests.support.catalog import make_resource
from tests.support.http import call
from tests.support.imports import ROOT, modules_loaded_by
from tests.unit.notifications.conftest import SentMail, add_user

# 2027-03-01 09:00 UTC is 10:00 in Warsaw (CET, +01:00); the bookings last two hours.
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
Outbox = Callable[[], list[SentMail]]


def text_of(document: bytes) -> str:
    assert document.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() for page in reader.pages)


def booked(
    *,
    venue_name: str = "Zoë's Hall, Kraków",
    resource_name: str = "Ballroom",
    customer: str = "cust",
    guests: int | None = 80,
    policy: dict[str, Any] | None = None,
) -> Booking:
    resource = make_resource(timezone="Europe/Warsaw", policy=policy)
    venue = repository.get_venue(resource.venue_id)
    assert venue is not None
    place = {"name": venue_name, "address": "ul. Floriańska 3", "city": "Kraków", "country": "PL"}
    repository.save_venue(venue.model_copy(update={**place, "version": venue.version + 1}), venue.version)
    renamed = resource.model_copy(update={"name": resource_name, "version": resource.version + 1})
    repository.save_resource(renamed, resource.version)
    data = BookingCreate(resourceId=resource.id, startTime=START, endTime=START + timedelta(hours=2), guests=guests)
    return create.create_booking(Caller(customer, "customer"), data).booking


def pdf_of(booking_id: str, user: str = "cust", role: str = "customer") -> Any:
    return call("GET", f"/api/v1/bookings/{booking_id}/confirmation.pdf", user=user, role=role)


def test_the_pdf_has_the_reference_local_times_price_lines_total_and_terms(table: str) -> None:
    booking = booked()
    answer = pdf_of(booking.id)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert f'filename="booking-{booking.reference}.pdf"' in answer.headers["content-disposition"]
    text = text_of(answer.body)
    assert booking.reference in text
    assert "2027-03-01 10:00\N{EN DASH}12:00 (Europe/Warsaw)" in text  # the venue's zone, named, not UTC's 09:00
    assert "Zoë's Hall, Kraków" in text
    assert "ul. Floriańska 3, Kraków, PL" in text
    assert "Ballroom" in text and "80" in text
    assert len(booking.price.lines) >= 1
    for line in booking.price.lines:
        assert line.description in text
    assert "EUR 40.00" in text  # the total: four 30-minute granules at 10.00
    # Each tier's absolute deadline in the same zone (default tiers: 168 h, 48 h, 24 h before the start).
    assert "Cancel before 2027-02-22 10:00 (Europe/Warsaw): 100%" in text
    assert "Cancel before 2027-02-27 10:00 (Europe/Warsaw): 50%" in text
    assert "Cancel before 2027-02-28 10:00 (Europe/Warsaw): 25%" in text
    assert "Not paid yet" in text


def test_payments_refunds_fee_and_every_price_line_appear(table: str) -> None:
    booking = booked(policy={"cancellation": {"tiers": [{"minHoursBefore": 72, "percent": 80}], "fee": 250}})
    extra = booking.price.lines[0].model_copy(update={"description": "Projector (add-on)", "amount": 1500})
    paid = booking.model_copy(
        update={
            "price": booking.price.model_copy(update={"lines": [*booking.price.lines, extra], "amount": 5500}),
            "payment": BookingPayment(
                payment_id="p-1",
                currency="EUR",
                amount_paid=5500,
                card_amount=3000,
                wallet_amount=2500,
                amount_refunded=1200,
                state="partially_refunded",
            ),
        }
    )
    text = text_of(pdf.of_booking(paid))
    assert "Projector (add-on)" in text and "EUR 15.00" in text
    assert "EUR 55.00" in text
    assert "Paid by card" in text and "EUR 30.00" in text
    assert "Paid from wallet" in text and "EUR 25.00" in text
    assert "Refunded" in text and "EUR -12.00" in text
    assert "Cancel before 2027-02-26 10:00 (Europe/Warsaw): 80%" in text
    assert "A fee of EUR 2.50" in text


@pytest.mark.parametrize(
    ("venue_name", "resource_name"),
    [("東京ホール", "大宴会場「鳳凰」"), ("Зал «Москва»", "Ελληνική αίθουσα"), ("北京会议中心", "Zoë's Hall, Kraków")],
)
def test_names_in_other_scripts_are_printed_as_written(table: str, venue_name: str, resource_name: str) -> None:
    booking = booked(venue_name=venue_name, resource_name=resource_name)
    text = text_of(pdf_of(booking.id).body)
    assert venue_name in text
    assert resource_name in text


def test_what_no_font_can_draw_prints_as_a_question_mark_and_rtl_letters_are_kept(table: str) -> None:
    """The documented limits: no crash, nothing silently dropped."""
    booking = booked(venue_name="قاعة الاحتفالات", resource_name="강당 🎉 A")
    text = text_of(pdf_of(booking.id).body)
    assert "?? ? A" in text  # Hangul (not in Droid Sans Fallback) and the emoji
    assert set("قاعة الاحتفالات") <= set(text)  # unshaped, in visual order, but every letter is there


def test_the_fallback_font_is_added_only_when_needed() -> None:
    assert not pdf.needs_fallback(["Zoë's Hall, Kraków", "Зал", "Ελληνική"])
    assert pdf.needs_fallback(["東京"])


def test_someone_elses_booking_is_a_404_problem_and_the_owners_parties_may_read_it(table: str) -> None:
    booking = booked()
    for user, role in (("mallory", "customer"), ("vendor-x", "vendor"), ("agent-x", "agent")):
        refused = pdf_of(booking.id, user, role)
        assert refused.status == 404, user
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.code == "booking_not_found"
    assert pdf_of("no-such-booking").status == 404
    assert call("GET", f"/api/v1/bookings/{booking.id}/confirmation.pdf").status == 401
    assert pdf_of(booking.id, "vendor-1", "vendor").status == 200  # the resource's vendor, as for GET /bookings/{id}
    assert pdf_of(booking.id, "root", "admin").status == 200


def test_the_confirmation_email_attaches_the_pdf_beside_the_ics(table: str, outbox: Outbox) -> None:
    booking = booked(customer="cust-42")
    add_user("cust-42", name="Ana")
    stored = booking_store.get_booking(booking.id)
    assert stored is not None
    event = DomainEvent(
        type="booking.confirmed",
        aggregate="booking",
        aggregate_id=booking.id,
        aggregate_version=stored.version,
        occurred_at=datetime.now(UTC),
        data=stored.public(),
    )
    assert service.handle(event) == 1
    (sent,) = outbox()
    assert sent.part("text/calendar") is not None
    attachment = sent.part("application/pdf")
    assert attachment is not None
    assert attachment.get_filename() == f"booking-{booking.reference}.pdf"
    content = attachment.get_payload(decode=True)
    assert isinstance(content, bytes)
    assert booking.reference in text_of(content)
    # A cancellation has no PDF (the booking is gone), only the CANCEL .ics.
    cancelled = DomainEvent(
        type="booking.cancelled",
        aggregate="booking",
        aggregate_id=booking.id,
        aggregate_version=stored.version + 1,
        occurred_at=datetime.now(UTC),
        data={**stored.public(), "status": "cancelled", "version": stored.version + 1},
    )
    service.handle(cancelled)
    assert outbox()[-1].part("application/pdf") is None


def test_no_handler_import_loads_the_pdf_library() -> None:
    """fpdf2 (and fontTools) cost about 250 ms of import: only a request that makes a PDF pays for it."""
    handlers = sorted(f"functions.{path.parent.name}.handler" for path in (ROOT / "functions").glob("*/handler.py"))
    assert "functions.bookings.handler" in handlers and "functions.notifier.handler" in handlers
    assert modules_loaded_by(handlers, "fpdf") == []
    assert modules_loaded_by(handlers, "fontTools") == []


def test_the_pdf_renders_without_pillow_and_without_fonttools_compiled_modules(tmp_path: Path) -> None:
    """The layer ships neither (infra.layer_build): the same rendering with both made unimportable."""
    script = f"""
import importlib.abc, importlib.machinery, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no Pillow in the layer")
        if name.startswith("fontTools."):
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is not None and spec.origin and spec.origin.endswith(".so"):
                source = spec.origin.split(".cpython")[0] + ".py"
                return importlib.util.spec_from_file_location(name, source)
        return None
import importlib.util
sys.meta_path.insert(0, Refuse())
from slotwise.notifications import pdf
doc = pdf.ConfirmationDocument(
    reference="ABC123", status="confirmed", resource="大宴会場", venue="Zoë's Hall, Kraków", address="Kraków",
    when="2027-03-01 10:00", timezone="Europe/Warsaw", guests="80", lines=[("Hall", "EUR 40.00")], total="EUR 40.00",
)
open({str(tmp_path / "out.pdf")!r}, "wb").write(pdf.render(doc))
assert "PIL" not in sys.modules
loaded = [m for n, m in sys.modules.items() if n.startswith("fontTools")]
assert not any((getattr(m, "__file__", None) or "").endswith(".so") for m in loaded)
"""
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'layers'}", "PATH": ""},
        check=True,
        timeout=120,
    )
    text = text_of((tmp_path / "out.pdf").read_bytes())
    assert "ABC123" in text and "大宴会場" in text and "Zoë's Hall, Kraków" in text


def _without_date_and_id(document: bytes) -> bytes:
    import re

    return re.sub(rb"/CreationDate \(D:[^)]*\)|/ID \[[^]]*\]", b"", document)


def hall_document(**changes: Any) -> pdf.ConfirmationDocument:
    """A document built by hand (no booking): a Polish hall's Ballroom, with `changes`."""
    from dataclasses import replace

    document = pdf.ConfirmationDocument(
        reference="BK-7",
        status="confirmed",
        resource="Ballroom",
        venue="Zoë's Hall",
        address="ul. Floriańska 3, Kraków",
        when="Mon 1 Mar 2027, 10:00-12:00",
        timezone="Europe/Warsaw",
        guests="80",
        lines=[("Ballroom (2 x 100.00 PLN)", "200.00 PLN")],
        total="200.00 PLN",
    )
    return replace(document, **changes)


@pytest.mark.parametrize("resource_name", ["Ballroom", "宴会厅 Ballroom"])
def test_reusing_the_parsed_fonts_makes_the_same_pdf_as_reading_them_afresh(resource_name: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    doc = hall_document(resource=resource_name, terms=["Cancellations: no refund"])
    afresh = _without_date_and_id(pdf.render(doc, reuse_fonts=False))
    # Concurrent renders in one process (the queue consumers' threads) share one parsed font and still each embed
    # exactly the subset of glyphs their own text uses.
    with ThreadPoolExecutor(max_workers=4) as pool:
        reused = list(pool.map(lambda _: _without_date_and_id(pdf.render(doc)), range(8)))
    assert all(document == afresh for document in reused)
    other = replace_resource(doc, "Small room")
    assert _without_date_and_id(pdf.render(other)) == _without_date_and_id(pdf.render(other, reuse_fonts=False))


def replace_resource(doc: pdf.ConfirmationDocument, name: str) -> pdf.ConfirmationDocument:
    from dataclasses import replace

    return replace(doc, resource=name)


def test_documents_within_the_latin_repertoire_share_one_cut_of_the_font() -> None:
    # Cutting the font per document was most of a PDF's CPU; every Latin document now embeds the repertoire's cut.
    base = hall_document(when="Mon 1 Mar 2027, 10:00\u201312:00")
    pdf._cut.cache_clear()
    first = pdf.render(base)
    second = pdf.render(replace_resource(base, "Żółta Sala — “Garden” … €"))
    assert pdf._cut.cache_info().misses == 1 and pdf._cut.cache_info().hits == 1
    assert "Żółta Sala — “Garden” … €" in text_of(second) and "Ballroom" in text_of(first)
    # A name beyond it (Cyrillic, which DejaVu draws) gets a cut of its own, and prints as written.
    cyrillic = pdf.render(replace_resource(base, "Зал Пушкин"))
    assert pdf._cut.cache_info().misses == 2
    assert "Зал Пушкин" in text_of(cyrillic)
    assert _without_date_and_id(cyrillic) == _without_date_and_id(
        pdf.render(replace_resource(base, "Зал Пушкин"), reuse_fonts=False)
    )
