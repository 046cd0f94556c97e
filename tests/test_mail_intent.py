"""Reply intent over short replies in the eight languages our users' prospects write in.

Every human reply is sent with the cold email quoted below it, a quote full of trigger words
("interested", "call", "unsubscribe"), to show that only the new text is read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from app.mail import classify, load_rules, parse

QUOTE = ("\n\nOn Mon, 2 Mar 2026 at 09:00, Bob Sender <bob@sender.io> wrote:\n"
         "> Hi, would you be interested in a quick call next week to see our pricing?\n"
         "> Reply \"unsubscribe\" to opt out, or tell me who the right person is.\n")

CASES: list[tuple[str, str, str]] = [
    # (language, expected category, reply text)
    ("en", "interested", "Sounds interesting, tell me more."),
    ("en", "interested", "Yes, please send more information."),
    ("en", "meeting", "Sure, let's set up a call on Thursday at 2pm."),
    ("en", "meeting", "Happy to chat. Are you free next Tuesday? Here is my calendar: calendly.com/jane"),
    ("en", "not_interested", "Not interested, thanks."),
    ("en", "not_interested", "We already have a vendor for this, no need."),
    ("en", "unsubscribe", "Please remove me from your list."),
    ("en", "unsubscribe", "Unsubscribe. Stop emailing me."),
    ("en", "wrong_person", "I'm not the right person for this, please reach out to tom@acme.example."),
    ("en", "wrong_person", "I no longer work at Acme."),
    ("en", "out_of_office", "I am out of the office until March 16 with limited access to email."),
    ("en", "out_of_office", "I'm currently on annual leave and will be back on 20/03/2026."),
    ("de", "interested", "Klingt gut, schicken Sie mir bitte mehr Informationen."),
    ("de", "interested", "Das ist interessant, was kostet das? Bitte Preis nennen."),
    ("de", "meeting", "Gerne, lassen Sie uns nächste Woche einen Termin vereinbaren."),
    ("de", "meeting", "Passt es Ihnen am Dienstag für ein kurzes Telefonat?"),
    ("de", "not_interested", "Kein Interesse, danke."),
    ("de", "not_interested", "Nein danke, das brauchen wir nicht."),
    ("de", "unsubscribe", "Bitte entfernen Sie mich aus Ihrem Verteiler und schreiben Sie mir nicht mehr."),
    ("de", "unsubscribe", "Abmelden bitte."),
    ("de", "wrong_person", "Dafür bin ich nicht zuständig, wenden Sie sich bitte an k.meier@firma.example."),
    ("de", "wrong_person", "Ich bin nicht der richtige Ansprechpartner."),
    ("de", "out_of_office", "Ich bin bis zum 16.03.2026 nicht im Büro."),
    ("de", "out_of_office", "Vielen Dank für Ihre Nachricht. Ich bin im Urlaub und ab dem 20. März wieder erreichbar."),
    ("fr", "interested", "Ça m'intéresse, pouvez-vous m'envoyer plus d'informations ?"),
    ("fr", "interested", "Intéressant, quels sont vos tarifs ?"),
    ("fr", "meeting", "Avec plaisir, organisons un appel la semaine prochaine."),
    ("fr", "meeting", "Je suis disponible mardi pour un rendez-vous."),
    ("fr", "not_interested", "Pas intéressé, merci."),
    ("fr", "not_interested", "Non merci, nous avons déjà une solution."),
    ("fr", "unsubscribe", "Merci de me désinscrire de votre liste."),
    ("fr", "unsubscribe", "Ne me contactez plus s'il vous plaît."),
    ("fr", "wrong_person", "Je ne suis pas la bonne personne, adressez-vous à paul@societe.example."),
    ("fr", "wrong_person", "Je ne travaille plus chez eux depuis un an."),
    ("fr", "out_of_office", "Je suis actuellement absente et serai de retour le 16 mars."),
    ("fr", "out_of_office", "Je suis en congés jusqu'au 20/03/2026 inclus."),
    ("es", "interested", "Me interesa, ¿me puede enviar más información?"),
    ("es", "interested", "Suena bien. ¿Cuál es el precio?"),
    ("es", "meeting", "Claro, agendemos una llamada la próxima semana."),
    ("es", "meeting", "Podemos tener una reunión el jueves."),
    ("es", "not_interested", "No estamos interesados, gracias."),
    ("es", "not_interested", "No, gracias. Ya tenemos proveedor."),
    ("es", "unsubscribe", "Por favor, darme de baja de su lista."),
    ("es", "unsubscribe", "No me escriban más, no quiero recibir estos correos."),
    ("es", "wrong_person", "No soy la persona adecuada, póngase en contacto con ana@empresa.example."),
    ("es", "wrong_person", "Ya no trabajo en esa empresa."),
    ("es", "out_of_office", "Estoy fuera de la oficina hasta el 16 de marzo."),
    ("es", "out_of_office", "Estoy de vacaciones, regresaré el 20/03/2026."),
    ("pt", "interested", "Tenho interesse, pode enviar mais informações?"),
    ("pt", "interested", "Parece interessante. Qual é o preço?"),
    ("pt", "meeting", "Vamos marcar uma reunião na próxima semana."),
    ("pt", "meeting", "Podemos fazer uma ligação na quinta?"),
    ("pt", "not_interested", "Não temos interesse, obrigado."),
    ("pt", "not_interested", "Não, obrigada. Já temos uma solução."),
    ("pt", "unsubscribe", "Por favor, me remova da sua lista."),
    ("pt", "unsubscribe", "Quero me descadastrar, não quero receber mais e-mails."),
    ("pt", "wrong_person", "Não sou a pessoa certa, entre em contato com joao@empresa.example."),
    ("pt", "wrong_person", "Não trabalho mais nessa empresa."),
    ("pt", "out_of_office", "Estou fora do escritório até 16/03/2026."),
    ("pt", "out_of_office", "Estou de férias e retorno no dia 20 de março."),
    ("it", "interested", "Mi interessa, potete inviarmi più informazioni?"),
    ("it", "interested", "Interessante, qual è il prezzo?"),
    ("it", "meeting", "Volentieri, fissiamo una chiamata la prossima settimana."),
    ("it", "meeting", "Sono disponibile giovedì per una riunione."),
    ("it", "not_interested", "Non siamo interessati, grazie."),
    ("it", "not_interested", "No grazie, abbiamo già un fornitore."),
    ("it", "unsubscribe", "Per favore cancellami dalla vostra lista."),
    ("it", "unsubscribe", "Non scrivetemi più, voglio disiscrivermi."),
    ("it", "wrong_person", "Non sono la persona giusta, si rivolga a luca@azienda.example."),
    ("it", "wrong_person", "Non lavoro più in questa azienda."),
    ("it", "out_of_office", "Sono fuori ufficio fino al 16 marzo."),
    ("it", "out_of_office", "Sono in ferie, rientrerò il 20/03/2026."),
    ("nl", "interested", "Klinkt interessant, kunt u meer informatie sturen?"),
    ("nl", "interested", "Ik ben geïnteresseerd. Wat is de prijs?"),
    ("nl", "meeting", "Laten we volgende week een afspraak inplannen."),
    ("nl", "meeting", "Kunnen we donderdag even bellen?"),
    ("nl", "not_interested", "Geen interesse, bedankt."),
    ("nl", "not_interested", "Nee bedankt, we hebben al een leverancier."),
    ("nl", "unsubscribe", "Graag afmelden voor deze mails."),
    ("nl", "unsubscribe", "Verwijder mij alstublieft uit uw bestand."),
    ("nl", "wrong_person", "Ik ben niet de juiste persoon, neem contact op met piet@bedrijf.example."),
    ("nl", "wrong_person", "Ik werk hier niet meer."),
    ("nl", "out_of_office", "Ik ben afwezig tot 16 maart."),
    ("nl", "out_of_office", "Ik ben met vakantie en weer aanwezig vanaf 20-03-2026."),
    ("pl", "interested", "Brzmi ciekawie, proszę przesłać więcej informacji."),
    ("pl", "interested", "Jestem zainteresowany. Jaka jest cena?"),
    ("pl", "meeting", "Umówmy się na rozmowę w przyszłym tygodniu."),
    ("pl", "meeting", "Czy możemy mieć spotkanie w czwartek?"),
    ("pl", "not_interested", "Nie jesteśmy zainteresowani, dziękuję."),
    ("pl", "not_interested", "Nie, dziękuję. Mamy już dostawcę."),
    ("pl", "unsubscribe", "Proszę usuń mnie z listy."),
    ("pl", "unsubscribe", "Proszę więcej nie pisać, chcę się wypisać."),
    ("pl", "wrong_person", "Nie jestem właściwą osobą, proszę skontaktować z ewa@firma.example."),
    ("pl", "wrong_person", "Już nie pracuję w tej firmie."),
    ("pl", "out_of_office", "Jestem na urlopie do 16.03.2026."),
    ("pl", "out_of_office", "Jestem poza biurem, wracam 20 marca."),
]


def _message(text: str, *, quoted: bool) -> bytes:
    body = text + (QUOTE if quoted else "\n")
    return ("From: Prospect <p@prospect.example>\nTo: Bob Sender <bob@sender.io>\n"
            "Subject: Re: Quick question\nDate: Tue, 3 Mar 2026 10:00:00 +0100\n"
            "Message-ID: <r@prospect.example>\nIn-Reply-To: <cold@sender.io>\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            + body).encode("utf-8")


def test_intent_table_accuracy():
    assert len(CASES) >= 80
    assert {lang for lang, _, _ in CASES} == {"en", "de", "fr", "es", "pt", "it", "nl", "pl"}
    wrong = []
    per_category: Counter[str] = Counter()
    for lang, expected, text in CASES:
        # Absence notices are machine-written and quote nothing; replies quote the cold email.
        result = classify(parse(_message(text, quoted=expected != "out_of_office")))
        if expected == "out_of_office":
            # Every absence notice in the table names its return day: the 16th or 20th of March.
            day = 16 if "16" in text else 20
            if result.ooo_until != date(2026, 3, day):
                wrong.append(f"[{lang}] ooo_until {result.ooo_until} != 2026-03-{day}: {text!r}")
                continue
        if result.category == expected:
            per_category[expected] += 1
        else:
            wrong.append(f"[{lang}] {expected} -> {result.category}: {text!r} {result.reasons}")
    accuracy = 1 - len(wrong) / len(CASES)
    print(f"\nintent accuracy: {accuracy:.1%} over {len(CASES)} replies in 8 languages")
    print("  correct per category:", dict(sorted(per_category.items())))
    for line in wrong:
        print("  miss:", line)
    assert accuracy >= 0.9


def test_quoted_cold_email_is_not_read():
    result = classify(parse(_message("Thanks for reaching out.", quoted=True)))
    assert result.kind == "human"
    assert result.category == "uncategorized"


def test_unsubscribe_outranks_not_interested():
    result = classify(parse(_message("Not interested. Remove me from your list.", quoted=True)))
    assert result.category == "unsubscribe"
    assert any("lower priority" in r for r in result.reasons)


def test_wrong_person_carries_referral():
    result = classify(parse(_message(
        "Not my area - please reach out to Dana (dana.k@prospect.example).", quoted=True)))
    assert result.category == "wrong_person"
    assert result.referral == "dana.k@prospect.example"


def test_out_of_office_return_date():
    result = classify(parse(_message(CASES[10][2], quoted=False)))
    assert result.kind == "autoreply" and result.category == "out_of_office"
    assert result.ooo_until is not None and result.ooo_until.isoformat() == "2026-03-16"


def test_user_rules_extend_the_shipped_ones():
    extra = load_rules("[intent.interested]\npatterns = ['count me in']\n")
    text = "Count me in!"
    assert classify(parse(_message(text, quoted=True))).category == "uncategorized"
    assert classify(parse(_message(text, quoted=True)), extra).category == "interested"


def test_bad_user_rules_are_reported():
    import pytest
    with pytest.raises(ValueError, match="intent.interested"):
        load_rules("[intent.interested]\npatterns = ['(unclosed']\n")
