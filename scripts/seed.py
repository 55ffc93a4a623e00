"""Demo customers for the local stack and the tests: 20 customers in English and German.

Written by the project (no external data). Histories are generated deterministically
from the hand-written facts below; ``C-1004`` has 600 interactions to exercise the
prompt budget. Usage: ``python -m scripts.seed`` against the Firestore emulator.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.data.offers import OfferRepository, load_catalogue_file
from shared.data.snapshots import (
    Address,
    Consent,
    Customer,
    HistoryStats,
    Interaction,
    Order,
    OrderItem,
    Product,
    Profile,
    Ticket,
    apply_interaction,
)
from shared.settings import ROOT, load_settings

REFERENCE_NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CATALOGUE = {
    "FIB-100": "Fibre 100 broadband",
    "FIB-500": "Fibre 500 broadband",
    "MOB-S": "Mobile S plan",
    "MOB-XL": "Mobile XL plan",
    "TV-BASIC": "TV Basic",
    "TV-SPORT": "TV Sport package",
    "ROUTER-6": "WiFi 6 router",
    "MESH-2": "Mesh extender (2-pack)",
    "PHONE-A15": "Smartphone A15",
    "INS-DEV": "Device insurance",
}

# (summary, sentiment, score) per category and language; written for this project.
HISTORY = {
    "en": {
        "billing": [
            ("Asked why the monthly invoice was higher than usual; roaming charges explained.", "neutral", 0.0),
            ("Charged twice for the same month; refund of the duplicate payment requested.", "negative", -0.7),
            ("Wanted a copy of last year's invoices for tax purposes; sent by email.", "positive", 0.4),
        ],
        "outage": [
            ("Internet down since the morning; area outage confirmed, ETA given.", "negative", -0.6),
            ("Slow speeds in the evening; line reset from our side, customer to re-test.", "neutral", -0.1),
            ("Third outage this month, very frustrated, threatened to cancel.", "negative", -0.9),
        ],
        "delivery": [
            ("Parcel with the new router marked delivered but not received.", "negative", -0.5),
            ("Asked for the tracking link of the phone order; sent via SMS.", "positive", 0.3),
        ],
        "contract": [
            ("Asked about upgrading to a faster plan; options explained, will think about it.", "positive", 0.5),
            ("Wants to move the contract to a new address next month.", "neutral", 0.1),
            ("Asked about the notice period for cancelling TV.", "neutral", -0.2),
        ],
        "technical": [
            ("Router keeps rebooting; firmware update guided over chat, solved.", "positive", 0.6),
            ("Cannot set up voicemail on the new phone; steps sent.", "neutral", 0.0),
        ],
        "praise": [("Thanked the technician for the quick and tidy installation.", "positive", 0.9)],
    },
    "de": {
        "billing": [
            ("Frage, warum die Monatsrechnung höher war; Roaming-Gebühren erklärt.", "neutral", 0.0),
            ("Doppelte Abbuchung für denselben Monat; Erstattung beantragt.", "negative", -0.7),
            ("Bat um Rechnungskopien des Vorjahres für die Steuer; per E-Mail gesendet.", "positive", 0.4),
        ],
        "outage": [
            ("Internet seit dem Morgen ausgefallen; Störung im Gebiet bestätigt.", "negative", -0.6),
            ("Abends langsames Internet; Leitung zurückgesetzt, Kunde testet erneut.", "neutral", -0.1),
            ("Dritte Störung in diesem Monat, sehr verärgert, droht mit Kündigung.", "negative", -0.9),
        ],
        "delivery": [
            ("Paket mit dem Router als zugestellt markiert, aber nicht erhalten.", "negative", -0.5),
            ("Wollte den Sendungslink der Handy-Bestellung; per SMS geschickt.", "positive", 0.3),
        ],
        "contract": [
            ("Interesse an einem schnelleren Tarif; Optionen erklärt, überlegt noch.", "positive", 0.5),
            ("Möchte den Vertrag nächsten Monat an eine neue Adresse umziehen.", "neutral", 0.1),
            ("Frage zur Kündigungsfrist für das TV-Paket.", "neutral", -0.2),
        ],
        "technical": [
            ("Router startet ständig neu; Firmware-Update im Chat begleitet, gelöst.", "positive", 0.6),
            ("Mailbox auf dem neuen Handy lässt sich nicht einrichten; Anleitung gesendet.", "neutral", 0.0),
        ],
        "praise": [("Bedankte sich beim Techniker für die schnelle, saubere Installation.", "positive", 0.9)],
    },
}
OPEN_TICKET_SUBJECTS = {
    "en": {
        "billing": "Duplicate charge on the October invoice",
        "outage": "Repeated broadband outages",
        "delivery": "Router parcel not received",
        "contract": "Contract move to new address",
        "technical": "Router reboots several times a day",
    },
    "de": {
        "billing": "Doppelte Abbuchung auf der Oktoberrechnung",
        "outage": "Wiederholte Internetstörungen",
        "delivery": "Router-Paket nicht angekommen",
        "contract": "Vertragsumzug an neue Adresse",
        "technical": "Router startet mehrmals täglich neu",
    },
}


@dataclass
class Seed:
    customer_id: str
    name: str
    language: str
    city: tuple[str, str, str, str]  # street, postcode, city, country
    segment: str
    years: float
    products: list[str]
    preferences: list[str]
    churn_risk: float
    interactions: int
    focus: list[str]
    mood: float  # shifts sentiment of generated history
    marketing: bool = True
    region: str = "EU"
    open_tickets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


SEEDS = [
    Seed(
        "C-1001",
        "Emma Thompson",
        "en",
        ("14 Crown Street", "M1 4BT", "Manchester", "GB"),
        "gold",
        6.2,
        ["FIB-500", "MOB-XL", "TV-SPORT"],
        ["prefers email over phone calls", "no calls before 10:00"],
        0.15,
        40,
        ["billing", "technical"],
        0.2,
        region="UK",
    ),
    Seed(
        "C-1002",
        "Jonas Becker",
        "de",
        ("Lindenstraße 12", "10969", "Berlin", "DE"),
        "standard",
        2.1,
        ["FIB-100", "ROUTER-6"],
        ["bevorzugt Chat", "duzt gerne"],
        0.72,
        25,
        ["outage"],
        -0.6,
        open_tickets=["outage"],
        notes=["Drohte bei der letzten Störung mit Kündigung."],
    ),
    Seed(
        "C-1003",
        "Olivia Martin",
        "en",
        ("221 Harbour Road", "BS1 5TT", "Bristol", "GB"),
        "platinum",
        11.0,
        ["FIB-500", "MOB-XL", "TV-SPORT", "INS-DEV", "MESH-2"],
        ["wants a named contact person"],
        0.05,
        60,
        ["contract", "praise"],
        0.6,
        region="UK",
    ),
    Seed(
        "C-1004",
        "Sabine Hoffmann",
        "de",
        ("Goethestraße 8", "60313", "Frankfurt am Main", "DE"),
        "gold",
        9.5,
        ["FIB-500", "MOB-S", "TV-BASIC", "ROUTER-6"],
        ["bevorzugt Rückruf am Abend", "formelle Anrede (Sie)"],
        0.41,
        600,
        ["billing", "outage", "technical"],
        -0.2,
        open_tickets=["billing", "technical"],
        notes=["Langjährige Kundin, mehrere Kulanzgutschriften in der Vergangenheit."],
    ),
    Seed(
        "C-1005",
        "Liam O'Connor",
        "en",
        ("7 Pearse Street", "D02 X285", "Dublin", "IE"),
        "standard",
        0.6,
        ["MOB-S", "PHONE-A15"],
        ["short answers"],
        0.2,
        6,
        ["delivery"],
        0.0,
        open_tickets=["delivery"],
    ),
    Seed(
        "C-1006",
        "Mehmet Yılmaz",
        "de",
        ("Keupstraße 40", "51063", "Köln", "DE"),
        "standard",
        3.4,
        ["FIB-100", "MOB-S"],
        ["spricht lieber am Telefon"],
        0.35,
        18,
        ["billing"],
        -0.1,
    ),
    Seed(
        "C-1007",
        "Chloé Dubois",
        "en",
        ("3 Rue de la Paix", "1000", "Brussels", "BE"),
        "gold",
        4.8,
        ["FIB-500", "TV-BASIC"],
        ["writes in English, French name spelling matters"],
        0.1,
        22,
        ["contract"],
        0.3,
    ),
    Seed(
        "C-1008",
        "Klaus Wagner",
        "de",
        ("Marienplatz 3", "80331", "München", "DE"),
        "platinum",
        14.0,
        ["FIB-500", "MOB-XL", "TV-SPORT", "INS-DEV"],
        ["formelle Anrede (Sie)", "per Brief oder E-Mail"],
        0.08,
        75,
        ["contract", "technical", "praise"],
        0.5,
    ),
    Seed(
        "C-1009",
        "Priya Patel",
        "en",
        ("58 Mill Lane", "LS1 6DT", "Leeds", "GB"),
        "standard",
        1.2,
        ["MOB-XL", "PHONE-A15", "INS-DEV"],
        [],
        0.55,
        12,
        ["billing", "delivery"],
        -0.4,
        region="UK",
        open_tickets=["billing"],
    ),
    Seed(
        "C-1010",
        "Anna Schmidt",
        "de",
        ("Schillerweg 21", "04109", "Leipzig", "DE"),
        "standard",
        0.2,
        ["FIB-100"],
        ["wünscht schnelle Lösungen"],
        0.3,
        3,
        ["technical"],
        0.0,
    ),
    Seed(
        "C-1011",
        "James Walker",
        "en",
        ("900 Market Street", "94103", "San Francisco", "US"),
        "gold",
        5.0,
        ["FIB-500", "MESH-2"],
        ["text messages for appointments"],
        0.25,
        30,
        ["outage", "technical"],
        -0.1,
        region="US",
    ),
    Seed(
        "C-1012",
        "Fatima Al-Sayed",
        "de",
        ("Hafenstraße 5", "20359", "Hamburg", "DE"),
        "gold",
        7.3,
        ["FIB-500", "MOB-XL", "TV-BASIC"],
        ["Termine nur vormittags"],
        0.18,
        35,
        ["delivery", "contract"],
        0.2,
    ),
    Seed(
        "C-1013",
        "Noah Fischer",
        "de",
        ("Bahnhofstraße 77", "70173", "Stuttgart", "DE"),
        "standard",
        2.9,
        ["MOB-S"],
        [],
        0.65,
        9,
        ["billing"],
        -0.5,
        marketing=False,
        open_tickets=["billing"],
    ),
    Seed(
        "C-1014",
        "Grace Kim",
        "en",
        ("12 Queen Street", "EH2 1JE", "Edinburgh", "GB"),
        "standard",
        3.1,
        ["FIB-100", "TV-BASIC"],
        ["prefers chat", "informal tone is fine"],
        0.12,
        14,
        ["contract"],
        0.4,
        region="UK",
    ),
    Seed(
        "C-1015",
        "Lukas Weber",
        "de",
        ("Domplatz 2", "48143", "Münster", "DE"),
        "key_account",
        12.5,
        ["FIB-500", "MOB-XL", "MOB-S", "TV-SPORT", "MESH-2"],
        ["duzt gerne", "Technik-affin"],
        0.05,
        50,
        ["technical", "praise"],
        0.6,
    ),
    Seed(
        "C-1016",
        "Sophie Brown",
        "en",
        ("45 Park Row", "NE1 7RU", "Newcastle", "GB"),
        "standard",
        0.9,
        ["MOB-S", "PHONE-A15"],
        [],
        0.45,
        8,
        ["delivery", "billing"],
        -0.3,
        region="UK",
        open_tickets=["delivery"],
    ),
    Seed(
        "C-1017",
        "Marie Schulz",
        "de",
        ("Königsallee 60", "40212", "Düsseldorf", "DE"),
        "gold",
        5.6,
        ["FIB-500", "TV-SPORT"],
        ["bevorzugt E-Mail"],
        0.22,
        28,
        ["outage", "billing"],
        -0.1,
    ),
    Seed(
        "C-1018",
        "Daniel Evans",
        "en",
        ("3 Castle Street", "CF10 1BS", "Cardiff", "GB"),
        "gold",
        8.0,
        ["FIB-500", "MOB-XL"],
        ["calls only after 17:00"],
        0.3,
        45,
        ["technical", "contract"],
        0.1,
        region="UK",
    ),
    Seed(
        "C-1019",
        "Thomas Müller",
        "de",
        ("Rathausplatz 1", "90403", "Nürnberg", "DE"),
        "standard",
        4.0,
        ["FIB-100", "MOB-S", "ROUTER-6"],
        [],
        0.5,
        20,
        ["outage"],
        -0.4,
        open_tickets=["outage"],
    ),
    Seed(
        "C-1020",
        "Hannah Clarke",
        "en",
        ("18 High Street", "OX1 4AP", "Oxford", "GB"),
        "standard",
        1.8,
        ["FIB-100"],
        ["prefers email"],
        0.15,
        0,
        [],
        0.0,
        region="UK",
    ),
]


DEMO_TENANT, DEMO_BRAND = "acme", "acme-telecom"
DEMO_TEAMS = {"UK": "care-uk", "US": "care-us"}  # every other region: care-eu (config/safety/access.yaml)


def _phone(rng: random.Random, country: str) -> str:
    prefix = {"GB": "+44 7700 ", "DE": "+49 151 ", "IE": "+353 85 ", "BE": "+32 470 ", "US": "+1 415 "}[country]
    return prefix + f"{rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def build(seed: Seed, now: datetime = REFERENCE_NOW) -> tuple[Customer, list[Order | Ticket | Interaction]]:
    """The customer document and its sub-collection items, deterministic per seed."""
    rng = random.Random(seed.customer_id)
    since = now - timedelta(days=int(seed.years * 365))
    street, postcode, city, country = seed.city
    first, last = seed.name.split()[0], seed.name.split()[-1]
    email = f"{first}.{last}".lower().replace("'", "").replace("ı", "i") + "@example.com"
    products = [
        Product(
            sku=sku, name=CATALOGUE[sku], since=since + timedelta(days=rng.randint(0, max(1, int(seed.years * 200))))
        )
        for sku in seed.products
    ]
    items: list[Order | Ticket | Interaction] = []
    stats = HistoryStats()
    lang = seed.language
    focus = seed.focus or ["contract"]
    for n in range(seed.interactions):
        category = rng.choice(focus) if rng.random() < 0.7 else rng.choice(list(HISTORY[lang]))
        summary, sentiment, score = rng.choice(HISTORY[lang][category])
        score = max(-1.0, min(1.0, score + seed.mood * 0.3 + rng.uniform(-0.1, 0.1)))
        sentiment = "positive" if score > 0.25 else "negative" if score < -0.25 else "neutral"
        # Newest contacts cluster in the last months; older ones spread over the tenure.
        age_days = int((n / max(1, seed.interactions)) ** 1.5 * seed.years * 365) + rng.randint(0, 3)
        interaction = Interaction(
            interaction_id=f"{seed.customer_id}-I{n:04d}",
            channel=rng.choice(["email", "chat", "phone", "chat", "email"]),
            occurred_at=now - timedelta(days=age_days, hours=rng.randint(0, 10)),
            summary=summary,
            sentiment=sentiment,
            sentiment_score=round(score, 2),
            category=category,
            agent_id=f"agent-{rng.randint(1, 40):03d}",
        )
        stats = apply_interaction(stats, interaction)
        items.append(interaction)
    for n in range(min(8, 1 + int(seed.years * 2))):
        skus = rng.sample(sorted(CATALOGUE), k=rng.randint(1, 2))
        items.append(
            Order(
                order_id=f"ORD-{seed.customer_id[2:]}-{n + 1:03d}",
                placed_at=now - timedelta(days=n * 47 + rng.randint(1, 20)),
                status="delivered" if n else rng.choice(["shipped", "delivered"]),
                items=[OrderItem(sku=s, name=CATALOGUE[s]) for s in skus],
                total=round(rng.uniform(9.99, 499.0), 2),
                currency="USD" if country == "US" else "GBP" if country == "GB" else "EUR",
            )
        )
    for n, category in enumerate(seed.open_tickets):
        opened = now - timedelta(days=2 + n * 3)
        items.append(
            Ticket(
                ticket_id=f"T-{seed.customer_id[2:]}-{n + 1:02d}",
                subject=OPEN_TICKET_SUBJECTS[lang][category],
                status="open" if n == 0 else "pending",
                category=category,
                queue=None,
                priority="high" if seed.churn_risk > 0.6 else "medium",
                opened_at=opened,
                handoffs=n,
                queue_history=[],
            )
        )
    for n in range(min(5, seed.interactions // 10)):
        category = rng.choice(focus)
        opened = now - timedelta(days=60 + n * 90)
        items.append(
            Ticket(
                ticket_id=f"T-{seed.customer_id[2:]}-C{n + 1:02d}",
                subject=OPEN_TICKET_SUBJECTS[lang].get(category, category),
                status="closed",
                category=category,
                queue="Technical Support" if category in ("outage", "technical") else "Billing and Payments",
                opened_at=opened,
                closed_at=opened + timedelta(days=rng.randint(0, 6)),
                handoffs=rng.randint(0, 2),
            )
        )
    customer = Customer(
        customer_id=seed.customer_id,
        profile=Profile(
            name=seed.name,
            email=email,
            phone=_phone(rng, country),
            address=Address(
                street=street,
                postal_code=postcode,
                city=city,
                country=country,
                subdivision={"München": "DE-BY", "Nürnberg": "DE-BY", "Edinburgh": "GB-SCT"}.get(city),
            ),  # regional holidays
            language=lang,
            region=seed.region,
            timezone={
                "GB": "Europe/London",
                "IE": "Europe/Dublin",
                "BE": "Europe/Brussels",
                "US": "America/Los_Angeles",
            }.get(country, "Europe/Berlin"),
            consent=Consent(marketing=seed.marketing),
        ),
        segment=seed.segment,
        customer_since=since,
        tenant=DEMO_TENANT,
        brand=DEMO_BRAND,
        team=DEMO_TEAMS.get(seed.region, "care-eu"),  # access scope
        lifetime_value=round(sum(45.0 * seed.years * 12 for _ in seed.products) / 3, 2),
        currency="USD" if country == "US" else "GBP" if country == "GB" else "EUR",
        churn_risk=seed.churn_risk,
        products=products,
        preferences=seed.preferences,
        account_ids=[f"ACC-{rng.randint(10000000, 99999999)}"],
        notes=seed.notes,
        stats=stats,
    )
    return customer, items


SYNC_SOURCE = "urn:cx-copilot:demo-seed"
SEEDED_AT = REFERENCE_NOW  # the demo records' source clock: re-seeding is a redelivery, not a change


def seed_customers(rt: Any, seeds: list[Seed] = SEEDS, workers: int = 8) -> dict[str, int]:
    """The demo customers, published through the snapshot-sync path a company's systems use.

    Each change is the exact Pub/Sub message body the ``snapshot_sync`` function receives,
    handed to the same handler (its batch entry); customers run in parallel, each customer's
    changes in order (the customer record first, so its children never wait). Returns outcome counts.
    """
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    from shared.capabilities.snapshot_sync import handle_many
    from shared.data.sync import message, snapshot_changes

    def one(seed: Seed) -> Counter[str]:
        customer, items = build(seed)
        messages = [
            (message(name, change, SYNC_SOURCE), None) for name, change in snapshot_changes(customer, items, SEEDED_AT)
        ]
        return Counter(handle_many(messages, rt))

    total: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cx-seed") as pool:
        for counts in pool.map(one, seeds):
            total.update(counts)
    return dict(total)


def load_reference_data(offers: OfferRepository | None = None, kb: Any = None, embedder: Any = None) -> None:
    """The offer catalogue (scripts/seed_data/offers.yaml) and knowledge base: never any customer."""
    if kb is not None:
        from scripts.kb_ingest import load_articles

        kb.put(load_articles(ROOT / "scripts" / "seed_data" / "kb_articles.yaml"), embedder)
    if offers is not None:
        offers.put_offers(load_catalogue_file(ROOT / "scripts" / "seed_data" / "offers.yaml"))


def seed_all(
    rt: Any, seeds: list[Seed] = SEEDS, offers: OfferRepository | None = None, kb: Any = None, embedder: Any = None
) -> int:
    """Demo customers through the sync path (and, given repositories, the catalogue and KB)."""
    seed_customers(rt, seeds)
    load_reference_data(offers, kb, embedder)
    if offers is not None:
        # Some observed acceptance so the propensity term is not only the prior (demo only).
        for offer_id, segment, accepted, offered in ACCEPTANCE:
            offers.set_acceptance(offer_id, segment, accepted, offered)
    return len(seeds)


ACCEPTANCE = [
    ("RET-LOYALTY-10", "standard", 31, 80),
    ("RET-FREE-MONTH", "standard", 12, 60),
    ("RET-LOYALTY-15-GOLD", "gold", 22, 40),
    ("XS-TV-SPORT", "standard", 4, 70),
    ("UP-FIB-500", "standard", 18, 90),
    ("SVC-OUTAGE-CHECK", "standard", 50, 70),
    ("GW-CREDIT-20", "gold", 30, 45),
    ("XS-MESH", "gold", 2, 50),
]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Demo customers, offer catalogue and knowledge base.")
    parser.add_argument(
        "--reference-data-only",
        action="store_true",
        help="load only scripts/seed_data/offers.yaml and scripts/seed_data/kb_articles.yaml: never demo customers",
    )
    parser.add_argument("--allow-cloud", action="store_true", help="seed demo customers outside the emulator")
    args = parser.parse_args(argv)
    from shared.data.kb import HashEmbedder, KbRepository
    from shared.runtime import Runtime

    settings = load_settings()
    rt = Runtime(settings)
    if args.reference_data_only:
        load_reference_data(rt.offers, rt.kb, rt.embedder)
        print("loaded the offer catalogue and the knowledge base (no customers)")
        return 0
    if not settings.firestore_emulator_host and not args.allow_cloud:
        print(
            "refusing to seed demo customers outside the emulator (pass --allow-cloud to insist, or "
            "--reference-data-only for the catalogue and knowledge base alone)"
        )
        return 2
    count = seed_all(
        rt,
        offers=rt.offers,
        kb=KbRepository(rt.firestore, settings.kb_collection),
        embedder=HashEmbedder(settings.local_embedding_dim),
    )
    print(f"seeded {count} customers (through snapshot sync), the offer catalogue and the knowledge base")
    return 0


if __name__ == "__main__":
    sys.exit(main())
