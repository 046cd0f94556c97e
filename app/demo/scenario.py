"""Who is in the demo and what they write: sending mailboxes, prospects and their replies.

Everything here is plain data on reserved domains (``.test`` for the senders' own mailboxes,
``.example`` for prospects), so nothing in the demo can reach a real person. ``letters.py``
turns these entries into raw RFC 5322 messages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Campaign:
    product: str
    subject: str
    """``{company}`` is the prospect's company."""
    body: str
    """``{first}``, ``{company}`` and ``{sender}`` are filled in."""


@dataclass(frozen=True)
class Sender:
    """One sending mailbox: a configured account in the demo."""

    email: str
    name: str
    campaign: Campaign

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class Prospect:
    email: str
    name: str
    company: str
    answers_back: tuple[str, ...] = ()
    """What they write back when a reply reaches them, in turn; empty: they stay silent."""

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class Reply:
    """A prospect's (or their mail server's) answer to the cold email ``sender`` sent them."""

    sender: int
    """Index into SENDERS."""
    prospect: str
    """A prospect's email; for bounces, the address that failed."""
    kind: str
    """``human``, ``ooo``, ``hard_bounce``, ``soft_bounce`` or ``malformed``."""
    expect: str
    """The category a reader would give it (what the classifier should find)."""
    body: str = ""
    language: str = "en"
    hours_ago: float = 0.0
    """For seeded replies: how long ago it arrived (the cold email went out two days before)."""


LOGISTICS = Campaign(
    "Northwind Route Analytics",
    "Cutting empty miles at {company}",
    "Hi {first},\n\nMost fleets we work with run 18-25% of their miles empty. Northwind Route Analytics\n"
    "finds those legs from your existing TMS data and suggests backhauls, usually within two weeks.\n\n"
    "Would it be worth a 15-minute look at what it would find at {company}?\n\nBest,\n{sender}\n")
TRAINING = Campaign(
    "Brightpath Sales Coaching",
    "New SDR ramp at {company}",
    "Hi {first},\n\nSaw that {company} is hiring SDRs again. Brightpath pairs each new rep with a coach\n"
    "and call reviews from week one; teams we work with reach quota about six weeks sooner.\n\n"
    "Open to comparing notes on how you ramp new reps today?\n\nCheers,\n{sender}\n")
HIRING = Campaign(
    "Fieldstone Technical Hiring",
    "Backend engineers for {company}",
    "Hello {first},\n\nFieldstone runs technical hiring for teams that cannot wait three months for a\n"
    "senior backend engineer. We have four vetted candidates available this month with Python and\n"
    "Go experience.\n\nShall I send you two anonymized profiles for {company}?\n\nKind regards,\n{sender}\n")

SENDERS: tuple[Sender, ...] = (
    Sender("alex@northwind-outreach.test", "Alex Rivera", LOGISTICS),
    Sender("jamie@northwind-outreach.test", "Jamie Chen", LOGISTICS),
    Sender("sam@northwind-growth.test", "Sam Okafor", LOGISTICS),
    Sender("priya@brightpath-sales.test", "Priya Natarajan", TRAINING),
    Sender("marco@brightpath-sales.test", "Marco Bellini", TRAINING),
    Sender("lena@brightpath-hq.test", "Lena Vogel", TRAINING),
    Sender("tom@fieldstone-partners.test", "Tom Gallagher", HIRING),
    Sender("nina@fieldstone-partners.test", "Nina Petrova", HIRING),
    Sender("omar@tryfieldstone.test", "Omar Haddad", HIRING),
    Sender("julia@tryfieldstone.test", "Julia Santos", HIRING),
)

INTERESTED_BACK = (
    "Thanks for the quick answer. Tuesday at 10:00 works for me, send the invite to this address.\n",
    "Perfect, I have looped in our ops lead. Talk soon.\n",
)
SILENT: tuple[str, ...] = ()

PROSPECTS: tuple[Prospect, ...] = (
    Prospect("dana.whitfield@acme-logistics.example", "Dana Whitfield", "Acme Logistics", INTERESTED_BACK),
    Prospect("raj.mehta@bluepeak-freight.example", "Raj Mehta", "BluePeak Freight", INTERESTED_BACK),
    Prospect("claire.dubois@transalpes.example", "Claire Dubois", "TransAlpes"),
    Prospect("m.schneider@nordfracht.example", "Markus Schneider", "Nordfracht"),
    Prospect("ops@coastline-haulage.example", "Greg Holt", "Coastline Haulage"),
    Prospect("sofia.ramirez@ibericarga.example", "Sofía Ramírez", "IberiCarga"),
    Prospect("kevin.boyd@redwood-carriers.example", "Kevin Boyd", "Redwood Carriers"),
    Prospect("hannah.lee@quantumcrm.example", "Hannah Lee", "QuantumCRM", INTERESTED_BACK),
    Prospect("ben.carter@lumen-analytics.example", "Ben Carter", "Lumen Analytics"),
    Prospect("anke.jansen@stadtwerk-digital.example", "Anke Jansen", "Stadtwerk Digital"),
    Prospect("lucas.martin@orbis-sante.example", "Lucas Martin", "Orbis Santé"),
    Prospect("maria.lopez@harborline.example", "María López", "Harborline", INTERESTED_BACK),
    Prospect("tyler.nguyen@harborline.example", "Tyler Nguyen", "Harborline"),
    Prospect("grace.kim@pinecrest-health.example", "Grace Kim", "Pinecrest Health", INTERESTED_BACK),
    Prospect("olivia.brown@tidewater-bank.example", "Olivia Brown", "Tidewater Bank"),
    Prospect("felix.wagner@alpenbyte.example", "Felix Wagner", "AlpenByte"),
    Prospect("isabel.costa@vertice-labs.example", "Isabel Costa", "Vértice Labs"),
    Prospect("noah.patel@kestrel-robotics.example", "Noah Patel", "Kestrel Robotics", INTERESTED_BACK),
    Prospect("emma.wilson@kestrel-robotics.example", "Emma Wilson", "Kestrel Robotics", INTERESTED_BACK),
    Prospect("david.cohen@summitpay.example", "David Cohen", "SummitPay"),
    Prospect("aiko.tanaka@mirai-games.example", "Aiko Tanaka", "Mirai Games"),
    Prospect("pierre.laurent@clairvoyance.example", "Pierre Laurent", "Clairvoyance"),
    Prospect("pat.reyes@redwood-carriers.example", "Pat Reyes", "Redwood Carriers", INTERESTED_BACK),
    Prospect("laura.fischer@brenner-bau.example", "Laura Fischer", "Brenner Bau"),
    Prospect("sam.taylor@oakmont-retail.example", "Sam Taylor", "Oakmont Retail", INTERESTED_BACK),
    Prospect("jonas.berg@fjordline-it.example", "Jonas Berg", "Fjordline IT"),
    Prospect("rosa.moreno@solaria-energia.example", "Rosa Moreno", "Solaria Energía", INTERESTED_BACK),
    Prospect("ethan.clark@ironbridge-mfg.example", "Ethan Clark", "Ironbridge Manufacturing"),
)

# Addresses that bounce: they are not mailboxes anywhere in the demo.
GONE = Prospect("j.morrison@acme-logistics.example", "Jim Morrison", "Acme Logistics")
FULL = Prospect("sales@tinyshop-supplies.example", "Morgan Blake", "Tinyshop Supplies")

# Already in the inbox when the demo starts.
SEEDED: tuple[Reply, ...] = (
    Reply(0, "dana.whitfield@acme-logistics.example", "human", "interested",
          "Hi Alex,\n\nThis is timely, we are reviewing our routing tools this quarter. Can you send me\n"
          "more details and rough pricing for a fleet of about 120 trucks?\n\nDana\n", hours_ago=30),
    Reply(1, "raj.mehta@bluepeak-freight.example", "human", "meeting",
          "Jamie, happy to take a look. Are you free Thursday at 3pm CET? Otherwise send me a calendar\n"
          "invite for next week.\n\nRaj Mehta\nHead of Operations, BluePeak Freight\n", hours_ago=26),
    Reply(2, "claire.dubois@transalpes.example", "human", "not_interested",
          "Hello Sam,\n\nThanks, but we are not interested. We already use an in-house tool for this.\n\n"
          "Claire\n", hours_ago=22),
    Reply(0, "m.schneider@nordfracht.example", "ooo", "out_of_office",
          "Vielen Dank für Ihre Nachricht.\n\nIch bin bis 09.12.2026 nicht im Büro und habe nur\n"
          "eingeschränkten Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an\n"
          "dispo@nordfracht.example.\n\nMit freundlichen Grüßen\nMarkus Schneider\n",
          language="de", hours_ago=20),
    Reply(1, "ops@coastline-haulage.example", "human", "unsubscribe",
          "Please remove me from your list and do not contact me again.\n", hours_ago=19),
    Reply(2, "sofia.ramirez@ibericarga.example", "ooo", "out_of_office",
          "Gracias por su mensaje.\n\nEstoy fuera de la oficina hasta el 4 de diciembre de 2026, con acceso\n"
          "limitado al correo. Responderé a mi regreso.\n\nUn saludo,\nSofía Ramírez\n",
          language="es", hours_ago=18),
    Reply(0, GONE.email, "hard_bounce", "bounce", hours_ago=17),
    Reply(3, "hannah.lee@quantumcrm.example", "human", "interested",
          "Hi Priya,\n\nInteresting timing, we just hired four SDRs. Tell me more about how the coaching\n"
          "works and what it costs per rep.\n\nHannah\n", hours_ago=15),
    Reply(4, "ben.carter@lumen-analytics.example", "human", "not_interested",
          "No thanks, we are all set with our current enablement partner.\n", hours_ago=14),
    Reply(5, "anke.jansen@stadtwerk-digital.example", "ooo", "out_of_office",
          "I am out of the office until December 2, 2026 with no access to email. For urgent matters\n"
          "please contact team@stadtwerk-digital.example.\n\nAnke Jansen\n", hours_ago=13),
    Reply(4, "lucas.martin@orbis-sante.example", "ooo", "out_of_office",
          "Bonjour,\n\nJe suis actuellement absent et serai de retour le 7 décembre 2026. Pour toute\n"
          "urgence, merci d'écrire à contact@orbis-sante.example.\n\nCordialement,\nLucas Martin\n",
          language="fr", hours_ago=12),
    Reply(6, "tyler.nguyen@harborline.example", "human", "wrong_person",
          "Hi Tom,\n\nI'm not the right person for this, I moved to the product team in the spring. The\n"
          "right person is our VP Engineering, María López: maria.lopez@harborline.example\n\nTyler\n",
          hours_ago=11),
    Reply(3, FULL.email, "soft_bounce", "bounce", hours_ago=10),
    Reply(7, "grace.kim@pinecrest-health.example", "human", "meeting",
          "Nina, yes, let's talk. How about Monday at 11:00? Our hiring plan for Q1 has three backend\n"
          "roles open.\n\nGrace Kim\nCTO, Pinecrest Health\n", hours_ago=8),
    Reply(8, "olivia.brown@tidewater-bank.example", "human", "unsubscribe",
          "Unsubscribe.\n", hours_ago=7),
    Reply(5, "felix.wagner@alpenbyte.example", "human", "not_interested",
          "Hallo Lena,\n\nkein Interesse, danke. Wir haben bereits einen Partner für Sales-Trainings.\n\n"
          "Felix\n", language="de", hours_ago=6),
    Reply(9, "isabel.costa@vertice-labs.example", "malformed", "uncategorized",
          "Olá Julia, recebi a sua mensagem", hours_ago=5),
    Reply(8, "noah.patel@kestrel-robotics.example", "human", "interested",
          "Hi Omar,\n\nSounds interesting. Yes, please send the two profiles, Go experience matters most\n"
          "to us.\n\nNoah\n", hours_ago=3),
)

# Delivered one by one while the demo runs, then LIVE_VARIANTS keep coming.
LIVE: tuple[Reply, ...] = (
    Reply(9, "emma.wilson@kestrel-robotics.example", "human", "interested",
          "Hi Julia,\n\nNoah forwarded your note. We are interested, could you send over your pricing?\n\n"
          "Emma\n"),
    Reply(2, "kevin.boyd@redwood-carriers.example", "human", "wrong_person",
          "Hey Sam, I don't handle routing anymore. Please reach out to our fleet manager,\n"
          "pat.reyes@redwood-carriers.example, who owns the dispatch budget.\n\nKevin\n"),
    Reply(6, "david.cohen@summitpay.example", "ooo", "out_of_office",
          "I'm on vacation until December 1, 2026 and will reply when I'm back.\n\nDavid\n"),
    Reply(3, "aiko.tanaka@mirai-games.example", "human", "not_interested",
          "Thank you, but it is not a priority for us right now.\n\nAiko\n"),
    Reply(1, "sam.taylor@oakmont-retail.example", "human", "meeting",
          "Jamie, let's set up a call. Are you available next Wednesday afternoon?\n\nSam Taylor\n"),
    Reply(4, "pierre.laurent@clairvoyance.example", "human", "unsubscribe",
          "Merci de me retirer de votre liste, ne me contactez plus.\n", language="fr"),
    Reply(7, "laura.fischer@brenner-bau.example", "ooo", "out_of_office",
          "Vielen Dank für Ihre E-Mail. Ich bin im Urlaub und ab dem 14.12.2026 wieder im Büro.\n\n"
          "Laura Fischer\n", language="de"),
    Reply(8, "rosa.moreno@solaria-energia.example", "human", "interested",
          "Hola Omar,\n\nMe interesa, envíeme más información sobre los candidatos, por favor.\n\nRosa\n",
          language="es"),
    Reply(0, "jonas.berg@fjordline-it.example", "human", "not_interested",
          "Not a fit for us, we don't run our own fleet.\n"),
    Reply(5, "ethan.clark@ironbridge-mfg.example", "human", "interested",
          "Hi Lena, curious to hear more. What does a typical engagement look like?\n\nEthan\n"),
)

_FIRST = ("Ava", "Liam", "Zoe", "Mateo", "Chloe", "Arjun", "Mila", "Jonah", "Elif", "Ravi", "Ines", "Owen")
_LAST = ("Park", "Silva", "Novak", "Hughes", "Rossi", "Khan", "Meyer", "Duarte", "Walsh", "Ito", "Haas")
_COMPANIES = (("Brightline Foods", "brightline-foods"), ("Corvid Security", "corvid-sec"),
              ("Heliotrope Media", "heliotrope"), ("Junction Freight", "junction-freight"),
              ("Maple & Ash", "maple-ash"), ("Polaris Clinics", "polaris-clinics"),
              ("Quarry Labs", "quarrylabs"), ("Silverline Insurance", "silverline-ins"))
_VARIANT_TEXTS = (
    ("interested", "Hi {sender},\n\nThis sounds interesting. Can you send me more information?\n\n{first}\n"),
    ("meeting", "{sender}, let's talk. Are you free Friday at 2pm?\n\n{first}\n"),
    ("not_interested", "Thanks {sender}, but we're not interested at the moment.\n\n{first}\n"),
    ("unsubscribe", "Please take me off your list.\n"),
    ("out_of_office", "I am out of the office until Monday and will reply when I'm back.\n\n{first}\n"),
)


def live_replies(seed: int) -> Iterator[tuple[Reply, Prospect | None]]:
    """The replies that arrive while the demo runs: the scripted ones, then endless variants.

    A variant comes from a prospect invented on the spot (returned beside it, so the servers
    can give them a mailbox); scripted ones come from PROSPECTS (None beside them).
    """
    for reply in LIVE:
        yield reply, None
    rng = random.Random(seed)
    n = 0
    while True:
        n += 1
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company, domain = rng.choice(_COMPANIES)
        category, text = rng.choice(_VARIANT_TEXTS)
        sender = rng.randrange(len(SENDERS))
        prospect = Prospect(f"{first.lower()}.{last.lower()}{n}@{domain}.example", f"{first} {last}", company,
                            INTERESTED_BACK if category in ("interested", "meeting") else SILENT)
        kind = "ooo" if category == "out_of_office" else "human"
        body = text.format(sender=SENDERS[sender].first, first=first)
        yield Reply(sender, prospect.email, kind, category, body), prospect


def quiet_prospects(sender: int, count: int) -> list[Prospect]:
    """People a mailbox also wrote to who have not answered (yet): most of any campaign."""
    rng = random.Random(1000 + sender)
    out = []
    for n in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        company, domain = rng.choice(_COMPANIES)
        out.append(Prospect(f"{first[0].lower()}.{last.lower()}{sender}x{n}@{domain}.example", f"{first} {last}",
                            company))
    return out


def prospect(email: str) -> Prospect:
    for p in (*PROSPECTS, GONE, FULL):
        if p.email == email:
            return p
    raise KeyError(email)
