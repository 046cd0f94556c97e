"""Reply intent over short replies in the eight languages our users' prospects write in.

Every human reply is sent with the cold email quoted below it, a quote full of trigger words
("interested", "call", "unsubscribe"), to show that only the new text is read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.mail import classify, intent, load_rules, parse

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


# A second round, first run as a held-out set (15.6% then: the first rules only knew the
# table's phrasings), then used to broaden the rules, so now part of the table.
SECOND_ROUND: list[tuple[str, str, str]] = [
    ("en", "interested", "This could be useful for our team. What would it look like for us?"),
    ("en", "interested", "Okay, I'm listening. Can you share a case study?"),
    ("en", "meeting", "Thursday 3pm CET works for me, send an invite."),
    ("en", "meeting", "Grab a slot on my calendar and we'll go through it."),
    ("en", "not_interested", "Thanks but we're happy with our current provider."),
    ("en", "not_interested", "We have no budget for this in 2026."),
    ("en", "unsubscribe", "Please stop sending me these."),
    ("en", "unsubscribe", "Take me off your mailing list immediately."),
    ("en", "wrong_person", "You want our Head of Ops, Maria - maria@corp.example."),
    ("en", "wrong_person", "I'm in finance, this isn't something I deal with."),
    ("de", "interested", "Das klingt spannend, erzählen Sie mehr."),
    ("de", "meeting", "Können wir am Donnerstag kurz sprechen?"),
    ("de", "not_interested", "Danke, aber wir sind gut aufgestellt."),
    ("de", "unsubscribe", "Bitte streichen Sie mich von Ihrer Liste."),
    ("de", "wrong_person", "Bitte kontaktieren Sie unseren Einkauf unter einkauf@firma.example."),
    ("fr", "interested", "Pourquoi pas, dites-m'en plus."),
    ("fr", "meeting", "On peut se parler jeudi à 15h ?"),
    ("fr", "not_interested", "Merci mais ce n'est pas le bon moment pour nous."),
    ("fr", "unsubscribe", "Veuillez me retirer de vos envois."),
    ("fr", "wrong_person", "Ce n'est pas mon domaine, voyez avec notre DAF."),
    ("es", "interested", "Cuéntame cómo funciona."),
    ("es", "meeting", "¿Te viene bien el martes a las 10?"),
    ("es", "not_interested", "Gracias, pero no es para nosotros."),
    ("es", "unsubscribe", "Quiero que dejen de escribirme."),
    ("es", "wrong_person", "Eso lo lleva mi compañera Lucía, lucia@empresa.example."),
    ("pt", "interested", "Gostei, pode me mandar uma apresentação?"),
    ("pt", "meeting", "Pode ser quarta às 14h?"),
    ("pt", "not_interested", "Agradeço, mas não é prioridade agora."),
    ("pt", "unsubscribe", "Tirem meu e-mail da lista, por favor."),
    ("pt", "wrong_person", "Quem cuida disso é o Pedro, pedro@empresa.example."),
    ("it", "interested", "Mi sembra utile, raccontami di più."),
    ("it", "meeting", "Possiamo sentirci giovedì alle 11?"),
    ("it", "not_interested", "Grazie ma non fa per noi."),
    ("it", "unsubscribe", "Non voglio più ricevere queste email."),
    ("it", "wrong_person", "Se ne occupa il mio collega Marco, marco@azienda.example."),
    ("nl", "interested", "Leuk, vertel me er meer over."),
    ("nl", "meeting", "Past dinsdag om 10 uur?"),
    ("nl", "not_interested", "Dank je, maar dit is niets voor ons."),
    ("nl", "unsubscribe", "Stop met mailen alsjeblieft."),
    ("nl", "wrong_person", "Daar gaat mijn collega Sanne over: sanne@bedrijf.example."),
    ("pl", "interested", "Ciekawe, proszę o szczegóły."),
    ("pl", "meeting", "Pasuje mi wtorek o 10."),
    ("pl", "not_interested", "Dziękuję, ale to nie dla nas."),
    ("pl", "unsubscribe", "Proszę o usunięcie mojego adresu z bazy."),
    ("pl", "wrong_person", "Tym zajmuje się mój kolega Adam, adam@firma.example."),
]


# A third round, first run as a held-out set (31.8% after the second round of rules), then
# used to broaden the rules again, so now part of the table too.
THIRD_ROUND: list[tuple[str, str, str]] = [
    ("en", "interested", "Intriguing. Do you have any customers in logistics?"),
    ("en", "interested", "We might be open to this - what are the next steps?"),
    ("en", "meeting", "Let me loop in my assistant to find a time for the three of us."),
    ("en", "meeting", "I can do 20 minutes on Wednesday afternoon."),
    ("en", "not_interested", "Appreciate the note, but we'll stick with what we have."),
    ("en", "not_interested", "Please don't follow up, we've decided against it."),
    ("en", "unsubscribe", "How did you get my email? Delete it."),
    ("en", "unsubscribe", "Opt me out of all future emails."),
    ("en", "wrong_person", "I handle HR, not procurement. Try jim@corp.example."),
    ("de", "interested", "Interessantes Angebot, welche Referenzen haben Sie?"),
    ("de", "meeting", "Rufen Sie mich gerne morgen Vormittag an."),
    ("de", "not_interested", "Wir haben uns bereits für einen anderen Anbieter entschieden."),
    ("de", "unsubscribe", "Ich möchte keine weiteren Mails von Ihnen erhalten."),
    ("de", "wrong_person", "Das Thema liegt bei meiner Kollegin Frau Berg, berg@firma.example."),
    ("fr", "interested", "Ça a l'air intéressant, avez-vous une démo ?"),
    ("fr", "meeting", "Appelez-moi demain matin, je suis au bureau."),
    ("fr", "not_interested", "Nous ne sommes pas preneurs, merci."),
    ("fr", "unsubscribe", "Je ne souhaite plus recevoir vos messages."),
    ("fr", "wrong_person", "Je transmets à mon collègue Paul qui gère ce sujet : paul@societe.example."),
    ("es", "interested", "Me parece interesante, ¿tienen casos de éxito?"),
    ("es", "meeting", "Llámame mañana por la mañana."),
    ("es", "not_interested", "Ya estamos trabajando con otra empresa, gracias."),
    ("es", "unsubscribe", "No quiero recibir más correos suyos."),
    ("es", "wrong_person", "No llevo ese tema, escriba a compras@empresa.example."),
    ("pt", "interested", "Achei interessante, vocês têm clientes no Brasil?"),
    ("pt", "meeting", "Me liga amanhã de manhã."),
    ("pt", "not_interested", "Já fechamos com outro fornecedor."),
    ("pt", "unsubscribe", "Não quero receber mais mensagens de vocês."),
    ("pt", "wrong_person", "Não cuido dessa área, fale com compras@empresa.example."),
    ("it", "interested", "Interessante, avete clienti nel nostro settore?"),
    ("it", "meeting", "Chiamami domani mattina."),
    ("it", "not_interested", "Abbiamo già scelto un altro fornitore, grazie."),
    ("it", "unsubscribe", "Cancellate il mio indirizzo, per favore."),
    ("it", "wrong_person", "Non seguo io questo tema, scriva a acquisti@azienda.example."),
    ("nl", "interested", "Interessant, hebben jullie klanten in onze sector?"),
    ("nl", "meeting", "Bel me morgenochtend even."),
    ("nl", "not_interested", "We hebben al voor een andere partij gekozen."),
    ("nl", "unsubscribe", "Ik wil geen mails meer van jullie ontvangen."),
    ("nl", "wrong_person", "Dit ligt niet bij mij, mail inkoop@bedrijf.example."),
    ("pl", "interested", "Interesujące, macie klientów w naszej branży?"),
    ("pl", "meeting", "Proszę zadzwonić jutro rano."),
    ("pl", "not_interested", "Wybraliśmy już innego dostawcę."),
    ("pl", "unsubscribe", "Nie chcę dostawać od was więcej maili."),
    ("pl", "wrong_person", "To nie mój dział, proszę pisać na zakupy@firma.example."),
]


# A fourth round, first run as a held-out set (intent found in 18/43, none misfiled, after the
# third round of rules), then used to broaden the rules once more, so now part of the table.
FOURTH_ROUND: list[tuple[str, str, str]] = [
    ("en", "interested", "Timing is actually good, we're reviewing vendors this quarter."),
    ("en", "interested", "What does onboarding involve?"),
    ("en", "meeting", "Free after 4 on Friday if you want to run me through it."),
    ("en", "meeting", "Sure, book something with my EA Kate."),
    ("en", "not_interested", "Pass. Good luck though."),
    ("en", "not_interested", "We built this in-house, so no."),
    ("en", "unsubscribe", "Remove this address, this is spam."),
    ("en", "wrong_person", "Jane left us last year; her replacement is sam@corp.example."),
    ("en", "uncategorized", "Who is this?"),
    ("en", "uncategorized", "Got it, thanks."),
    ("de", "interested", "Klingt vielversprechend. Was würde das für 50 Nutzer kosten?"),
    ("de", "meeting", "Haben Sie nächsten Mittwoch Zeit für einen Call?"),
    ("de", "not_interested", "Nein, vielen Dank. Kein Bedarf."),
    ("de", "unsubscribe", "Bitte löschen Sie meine Adresse aus Ihrem System."),
    ("de", "wrong_person", "Ich bin dafür leider nicht die richtige Person."),
    ("de", "uncategorized", "Danke für die Info."),
    ("fr", "interested", "Ça m'intéresserait d'en savoir davantage."),
    ("fr", "meeting", "Je suis dispo jeudi à 10h pour en discuter."),
    ("fr", "not_interested", "Merci, mais nous n'en avons pas l'utilité."),
    ("fr", "unsubscribe", "Supprimez mon adresse de votre base s'il vous plaît."),
    ("fr", "wrong_person", "Je ne suis plus en poste chez eux."),
    ("fr", "uncategorized", "Bien reçu, merci."),
    ("es", "interested", "Podría encajar. ¿Cuánto cuesta?"),
    ("es", "meeting", "¿Hacemos una videollamada el jueves?"),
    ("es", "not_interested", "No nos hace falta, gracias."),
    ("es", "unsubscribe", "Bórrenme de su lista de correo."),
    ("es", "wrong_person", "Yo no soy quien decide esto, hable con nuestro director."),
    ("es", "uncategorized", "Recibido, gracias."),
    ("pt", "interested", "Quanto custa para uma equipe de 20 pessoas?"),
    ("pt", "meeting", "Vamos conversar na terça às 15h?"),
    ("pt", "not_interested", "Não temos necessidade disso no momento."),
    ("pt", "unsubscribe", "Favor remover meu e-mail do cadastro."),
    ("pt", "wrong_person", "Não sou eu quem decide, procure o diretor comercial."),
    ("pt", "uncategorized", "Recebido, obrigado."),
    ("it", "interested", "Quanto costa per un team di 20 persone?"),
    ("it", "meeting", "Facciamo una call martedì alle 15?"),
    ("it", "not_interested", "Non ci serve, grazie."),
    ("it", "unsubscribe", "Toglietemi dalla mailing list."),
    ("it", "wrong_person", "Non sono io a decidere, contatti il responsabile acquisti."),
    ("it", "uncategorized", "Ricevuto, grazie."),
    ("nl", "interested", "Wat kost dat voor een team van 20 man?"),
    ("nl", "meeting", "Zullen we dinsdag om 15 uur bellen?"),
    ("nl", "not_interested", "Daar hebben we geen behoefte aan."),
    ("nl", "unsubscribe", "Haal mijn adres uit jullie bestand."),
    ("nl", "wrong_person", "Ik ben hier niet de juiste persoon voor."),
    ("nl", "uncategorized", "Ontvangen, dank je."),
    ("pl", "interested", "Ile to kosztuje dla zespołu 20 osób?"),
    ("pl", "meeting", "Możemy porozmawiać we wtorek o 15?"),
    ("pl", "not_interested", "Nie potrzebujemy tego, dziękuję."),
    ("pl", "unsubscribe", "Proszę usunąć mój adres z waszej listy."),
    ("pl", "wrong_person", "To nie ja decyduję, proszę pisać do dyrektora."),
    ("pl", "uncategorized", "Otrzymałem, dziękuję."),
]


# A fifth round, written after the fourth round of rules and first run as a held-out set (80.4%
# right, 0.0% misfiled, 19.6% left uncategorized; intent found in 34/43), then used to broaden
# the rules, so now part of the table.
FIFTH_ROUND: list[tuple[str, str, str]] = [
    ("en", "interested", "Could you send over a short overview I can forward to my boss?"),
    ("en", "interested", "Yes - curious how you'd handle our volume."),
    ("en", "meeting", "Tuesday at 11am Eastern works. Send the link."),
    ("en", "meeting", "Happy to jump on a quick call early next week."),
    ("en", "not_interested", "No thanks, not a fit for us."),
    ("en", "not_interested", "We're locked into a three-year contract, so not for now."),
    ("en", "unsubscribe", "Unsubscribe me please."),
    ("en", "wrong_person", "Wrong contact - I'm in legal. You want someone in IT."),
    ("en", "uncategorized", "Can you remind me what your company does?"),
    ("de", "interested", "Hört sich interessant an, schicken Sie mir gern Unterlagen."),
    ("de", "meeting", "Lassen Sie uns am Freitag um 14 Uhr telefonieren."),
    ("de", "not_interested", "Wir sind vertraglich gebunden, daher kein Interesse."),
    ("de", "unsubscribe", "Tragen Sie mich bitte aus Ihrem Newsletter aus."),
    ("de", "wrong_person", "Dafür ist unser IT-Leiter zuständig, nicht ich."),
    ("de", "uncategorized", "Woher haben Sie meine Nummer?"),
    ("fr", "interested", "Oui, envoyez-moi votre plaquette."),
    ("fr", "meeting", "Un appel mardi prochain me conviendrait."),
    ("fr", "not_interested", "Non, nous sommes sous contrat avec un concurrent."),
    ("fr", "unsubscribe", "Merci de ne plus m'écrire."),
    ("fr", "wrong_person", "Je ne gère pas ce sujet, voyez avec la DSI."),
    ("es", "interested", "Sí, mándame más detalles por favor."),
    ("es", "meeting", "Podemos hablar el lunes a las 9."),
    ("es", "not_interested", "No nos interesa por ahora."),
    ("es", "unsubscribe", "Por favor no me envíen más correos."),
    ("es", "wrong_person", "Ya no estoy en esa empresa."),
    ("pt", "interested", "Sim, me manda mais detalhes."),
    ("pt", "meeting", "Podemos falar na segunda às 9h."),
    ("pt", "not_interested", "Não temos interesse agora."),
    ("pt", "unsubscribe", "Por favor, não me enviem mais e-mails."),
    ("pt", "wrong_person", "Não estou mais nessa empresa."),
    ("it", "interested", "Sì, mandatemi qualche dettaglio in più."),
    ("it", "meeting", "Possiamo parlarne lunedì alle 9."),
    ("it", "not_interested", "Per ora non ci interessa."),
    ("it", "unsubscribe", "Vi prego di non scrivermi più."),
    ("it", "wrong_person", "Non lavoro più in quella società."),
    ("nl", "interested", "Ja, stuur me wat meer details."),
    ("nl", "meeting", "Maandag om 9 uur kunnen we even bellen."),
    ("nl", "not_interested", "Op dit moment geen interesse."),
    ("nl", "unsubscribe", "Stuur me alsjeblieft geen e-mails meer."),
    ("nl", "wrong_person", "Ik werk niet meer bij dat bedrijf."),
    ("pl", "interested", "Tak, proszę przesłać więcej szczegółów."),
    ("pl", "meeting", "Możemy porozmawiać w poniedziałek o 9."),
    ("pl", "not_interested", "Na razie nie jesteśmy zainteresowani."),
    ("pl", "unsubscribe", "Proszę nie wysyłać mi więcej maili."),
    ("pl", "wrong_person", "Nie pracuję już w tej firmie."),
    ("pl", "uncategorized", "Kto podał wam mój adres?"),
]


# A sixth round, written before the fifth round of rules and kept as the held-out set through
# it: never used for tuning then, it gave the estimate of how the rules do on phrasing they
# had not seen ("uncategorized" rows check that ordinary replies are not forced into a
# category). First run as a held-out set at 53.6% right, 5.4% misfiled, 41.1% left
# uncategorized (intent found in 21/47), both before and after the fifth round of rules; then
# used to broaden the rules in round six (accent-insensitive matching, negated interest never
# read as interest, idioms per language: 56/56 right after it), so now part of the table.
SIXTH_ROUND: list[tuple[str, str, str]] = [
    ("en", "interested", "Thanks for the note. We've been looking at tools in this space for a while, "
                         "actually. Is there a free trial we could run with two people?"),
    ("en", "meeting", "I'm travelling until Wednesday but could do a call Thursday morning, 9-10 my time."),
    ("en", "not_interested", "Honestly this isn't something we'd ever buy."),
    ("en", "not_interested", "not intrested, we're all set"),
    ("en", "unsubscribe", "Third email this week. Do not contact me again."),
    ("en", "wrong_person", "I moved to a different role in January, so I'm not the one to talk to "
                           "anymore. Maybe try the general inbox."),
    ("en", "uncategorized", "Which company are you with again?"),
    ("de", "interested", "Wir suchen tatsächlich gerade nach sowas. Haben Sie eine Preisliste?"),
    ("de", "meeting", "Hallo Herr Sender, nächste Woche Donnerstag ab 15 Uhr hätte ich Zeit, "
                      "rufen Sie einfach durch."),
    ("de", "meeting", "Schicken Sie mir gern eine Einladung für Montag, 10 Uhr."),
    ("de", "not_interested", "Danke für die Nachricht, aber das ist für uns kein Thema."),
    ("de", "unsubscribe", "Ich habe mich nie fuer so etwas angemeldet. Nehmen Sie mich sofort "
                          "aus dem Verteiler."),
    ("de", "wrong_person", "Ich habe das Unternehmen Ende letzten Jahres verlassen."),
    ("de", "uncategorized", "Wie sind Sie auf mich gekommen?"),
    ("fr", "interested", "Bonjour, le sujet nous parle. Vous avez des references dans l'industrie ?"),
    ("fr", "meeting", "Ok pour un échange, je vous laisse proposer deux ou trois créneaux."),
    ("fr", "not_interested", "Ca ne nous interesse pas du tout, desole."),
    ("fr", "unsubscribe", "Je n'ai jamais demandé à recevoir ça. Retirez-moi de votre fichier."),
    ("fr", "unsubscribe", "Stop aux relances svp, désabonnez-moi."),
    ("fr", "wrong_person", "Je ne m'occupe pas des achats, il faudrait écrire à achats@societe.example."),
    ("fr", "uncategorized", "Qui vous a donné mon adresse ?"),
    ("es", "interested", "Justo estamos buscando algo así. ¿Qué incluye el plan básico?"),
    ("es", "meeting", "Mejor hablarlo por teléfono, ¿te parece el miercoles a las 4?"),
    ("es", "not_interested", "Gracias por escribir. De momento no, tenemos otras prioridades este año."),
    ("es", "unsubscribe", "Dejen de mandarme correos, por favor. Ya es el cuarto."),
    ("es", "wrong_person", "Ya no estoy a cargo de esa área, ahora lo ve mi compañero Jorge."),
    ("es", "wrong_person", "Te equivocaste de persona, yo soy de marketing."),
    ("es", "uncategorized", "Perdona, ¿de qué empresa me escribes?"),
    ("pt", "interested", "Faz sentido pra gente. Vocês integram com o HubSpot?"),
    ("pt", "interested", "Legal! Manda um orçamento pra 10 usuários."),
    ("pt", "meeting", "Topo uma conversa rápida, pode ser sexta de manhã?"),
    ("pt", "not_interested", "Obrigado pelo contato, mas não vamos seguir com isso."),
    ("pt", "unsubscribe", "Pare de me mandar email, nunca pedi isso."),
    ("pt", "wrong_person", "Saí da empresa em dezembro, procure outra pessoa."),
    ("pt", "uncategorized", "Quem te passou meu contato?"),
    ("it", "interested", "Ci stavamo proprio pensando, avete un listino?"),
    ("it", "meeting", "Ok, sentiamoci mercoledì pomeriggio, mandami un invito."),
    ("it", "not_interested", "Guardi, al momento non abbiamo bisogno di nulla del genere."),
    ("it", "unsubscribe", "Non vi ho mai dato il consenso. Rimuovete subito la mia email."),
    ("it", "wrong_person", "Non mi occupo piu di marketing da un anno, scriva a chiara@azienda.example"),
    ("it", "uncategorized", "Chi vi ha dato il mio indirizzo?"),
    ("it", "uncategorized", "Scusi, non ho capito cosa vendete."),
    ("nl", "interested", "Hoi, dit komt eigenlijk precies op het goede moment. Wat zijn de kosten?"),
    ("nl", "meeting", "Prima, plan maar iets in voor volgende week woensdag."),
    ("nl", "not_interested", "Nee, daar beginnen we niet aan."),
    ("nl", "not_interested", "We zijn tevreden met wat we nu hebben, dus nee dank je."),
    ("nl", "unsubscribe", "Ik heb nooit toestemming gegeven. Schrijf mij uit a.u.b."),
    ("nl", "wrong_person", "Ik ga hier niet over, probeer onze inkoopafdeling."),
    ("nl", "uncategorized", "Hoe komen jullie aan mijn gegevens?"),
    ("pl", "interested", "Temat jest dla nas aktualny. Czy macie wersję próbną?"),
    ("pl", "meeting", "Moge w srode po 14, prosze przeslac zaproszenie."),
    ("pl", "meeting", "Chętnie pogadam, proszę wybrać termin w kalendarzu."),
    ("pl", "not_interested", "Dzięki, ale nie skorzystamy."),
    ("pl", "unsubscribe", "Nie zgadzałem się na takie wiadomości. Proszę mnie wypisać z bazy."),
    ("pl", "wrong_person", "Nie odpowiadam za zakupy, proszę napisać do działu IT."),
    ("pl", "uncategorized", "Przepraszam, a co to za firma?"),
]


# Never used to tune the rules: the estimate of how they do on phrasing they have not seen.
# "uncategorized" rows check that ordinary replies are not forced into a category. Misfiling (a
# wrong category) matters more than missing (left uncategorized for the user to sort), so both
# are printed and misfiling is held lower.
# Written blind (by someone who had not seen the rules or the earlier tables) while round six
# was being tuned, and pasted in after: first run after round six, 89.1% right, 3.1% misfiled,
# 7.8% left uncategorized (intent found in 49/55). Not tuned on since.
HELD_OUT: list[tuple[str, str, str]] = [
    # ---------------- en ----------------
    ("en", "interested", "Hi Bob,\n\nThanks for reaching out. We've actually been looking at options in this space for a few months now. Could you send over some pricing and a case study or two?\n\nThanks,\nAnna"),
    ("en", "meeting", "Sure, Thursday at 2pm ET works for me. Send an invite."),
    ("en", "meeting", "Hey - got a calendly or something? easier if I just grab a slot next week"),
    ("en", "not_interested", "we're all set with our current provider, thx"),
    ("en", "not_interested", "Appreciate the persistence, but we just signed a 3 year contract with another vendor in January. Not something we can revisit right now."),
    ("en", "unsubscribe", "take me of your list pls"),
    ("en", "wrong_person", "Hi,\nI moved to a different role last year and don't handle procurement anymore. You'll want to talk to Priya Shah (priya.shah@example.com), she runs vendor decisions now.\nBest,\nTom"),
    ("en", "uncategorized", "Who is this? How did you get my email address?"),
    # ---------------- de ----------------
    ("de", "interested", "Hallo Herr Müller,\n\nvielen Dank für Ihre Nachricht. Das Thema ist bei uns gerade tatsächlich aktuell. Könnten Sie mir ein paar Unterlagen und eine grobe Preisindikation schicken?\n\nViele Grüße\nSabine Koch"),
    ("de", "interested", "Interessant! Was kostet das denn ungefaehr fuer ein Team von 20 Leuten?"),
    ("de", "meeting", "Klingt gut, lassen Sie uns telefonieren. Dienstag 10 Uhr oder Mittwoch nachmitag ginge bei mir."),
    ("de", "not_interested", "Kein Bedarf, danke."),
    ("de", "not_interested", "Hallo,\n\ndanke für das Angebot. Leider ist unser Budget für dieses Jahr komplett verplant, daher müssen wir passen.\n\nGruß\nMarkus"),
    ("de", "unsubscribe", "Bitte loeschen Sie meine Adresse aus Ihrem Verteiler. Ich moechte keine weiteren Mails von Ihnen erhalten."),
    ("de", "wrong_person", "Guten Tag,\nda sind Sie bei mir leider falsch, ich bin in der Buchhaltung. Für IT-Themen wenden Sie sich bitte an unseren Kollegen Jan Becker: j.becker@example.de\nMfG"),
    ("de", "uncategorized", "Sind Sie der gleiche Herr Weber, mit dem ich letztes Jahr auf der Messe in Hannover gesprochen habe?"),
    # ---------------- fr ----------------
    ("fr", "interested", "Bonjour,\n\nMerci pour votre message. Nous cherchons justement a ameliorer notre processus de facturation. Pourriez-vous m'envoyer une documentation et vos tarifs ?\n\nCordialement,\nClaire Dubois"),
    ("fr", "meeting", "Ok pour un appel, jeudi 15h ça vous va ?"),
    ("fr", "meeting", "Bonjour Marc,\n\nJ'ai bien lu votre message. Envoyez-moi votre lien de calendrier et je réserverai un créneau la semaine prochaine.\n\nBien à vous,\nSophie"),
    ("fr", "not_interested", "ca ne nous interesse pas, merci"),
    ("fr", "unsubscribe", "Merci de me retirer de votre liste de diffusion. C'est la troisième fois que je reçois ce mail, c'est du spam."),
    ("fr", "wrong_person", "Bonjour,\nJe ne suis plus chez Lefèvre SA depuis mars. Vous pouvez contacter Julien Martin à julien.martin@example.fr qui a repris mes dossiers.\nBonne journée"),
    ("fr", "wrong_person", "je m'occupe pas de ça, voyez plutot avec le service achats"),
    ("fr", "uncategorized", "Vous êtes qui exactement ? Je ne connais pas votre société."),
    # ---------------- es ----------------
    ("es", "interested", "Hola, me interesa. ¿Me podeis mandar mas info y precios?"),
    ("es", "meeting", "Hola Carlos,\n\nGracias por escribir. Tengo hueco el martes a las 11 o el miércoles por la tarde, ¿te va bien alguno para una llamada?\n\nSaludos,\nLucía"),
    ("es", "not_interested", "No gracias, ya tenemos proveedor."),
    ("es", "not_interested", "Hola,\n\nTe agradezco el seguimiento. De momento no es prioridad para nosotros y no hay presupuesto hasta el año que viene, asi que lo dejamos aqui.\n\nUn saludo"),
    ("es", "unsubscribe", "Por favor eliminen mi correo de su base de datos. No quiero recibir mas emails."),
    ("es", "unsubscribe", "dejen de escribirme de una vez"),
    ("es", "wrong_person", "Buenas, yo no soy la persona indicada para esto. Escribele a Javier Ruiz (jruiz@example.es), él lleva todo lo de marketing."),
    ("es", "uncategorized", "Recibido, gracias."),
    # ---------------- pt ----------------
    ("pt", "interested", "Ola, parece interessante. Voces tem algum material de apresentacao ou caso de sucesso pra me mandar?"),
    ("pt", "interested", "Olá João,\n\nObrigada pelo contato. Estamos reavaliando nossas ferramentas de CRM neste semestre, então o timing é bom. Quanto custa a licença por usuário?\n\nAbs,\nMariana"),
    ("pt", "meeting", "Pode ser, vamos marcar uma call. Sexta às 10h funciona?"),
    ("pt", "not_interested", "nao temos interesse no momento, obrigado"),
    ("pt", "unsubscribe", "Bom dia,\n\nJá pedi antes e volto a pedir: retirem o meu email da vossa lista. Não autorizei o envio destas mensagens.\n\nCumprimentos,\nRui Costa"),
    ("pt", "wrong_person", "Oi, eu saí da empresa no mês passado. Acho que quem cuida disso agora é a Fernanda, fernanda.lima@example.com.br"),
    ("pt", "wrong_person", "Nao sou eu que decido isso nao, tem que falar com o pessoal de TI."),
    ("pt", "uncategorized", "Desculpe, mas de onde nos conhecemos? Nao lembro de ter falado com voce."),
    # ---------------- it ----------------
    ("it", "interested", "Buongiorno,\n\ngrazie per il messaggio. L'argomento ci riguarda da vicino, dato che stiamo crescendo parecchio. Mi potrebbe inviare una brochure con i prezzi?\n\nCordiali saluti,\nGiulia Rossi"),
    ("it", "meeting", "Va bene per me una call, mi mandi pure un invito per lunedi alle 15."),
    ("it", "meeting", "Ciao, possiamo sentirci giovedi mattina? Dimmi tu l'orario"),
    ("it", "not_interested", "No grazie, non ci serve."),
    ("it", "not_interested", "Gentile Andrea,\n\nla ringrazio per l'interesse verso la nostra azienda. Al momento siamo vincolati da un contratto con un altro fornitore fino alla fine del 2025, quindi non possiamo valutare alternative.\n\nBuona giornata"),
    ("it", "unsubscribe", "Cancellatemi dalla vostra mailing list per favore"),
    ("it", "wrong_person", "Salve, non mi occupo io di questi acquisti. Provi a scrivere al collega Marco Bianchi, m.bianchi@example.it"),
    ("it", "uncategorized", "Scusi ma lei chi è? Non ricordo di averla mai sentita."),
    # ---------------- nl ----------------
    ("nl", "interested", "Hoi, klinkt interessant. Kun je me wat meer info sturen over de prijzen?"),
    ("nl", "meeting", "Hallo Pieter,\n\nBedankt voor je mail. Ik wil er graag eens over sparren; heb je woensdag om 14:00 tijd voor een kort belletje?\n\nGroet,\nSanne"),
    ("nl", "not_interested", "Geen interesse."),
    ("nl", "not_interested", "Dank voor het aanbod maar we zijn heel tevreden met onze huidige leverancier, dus we slaan het over."),
    ("nl", "unsubscribe", "Graag uitschrijven, ik wil deze mails niet meer ontvangen."),
    ("nl", "wrong_person", "Goedemiddag,\nIk werk sinds kort niet meer bij De Vries BV. Voor dit soort zaken kunt u terecht bij mijn opvolger, Lars Jansen (lars.jansen@example.nl).\nMet vriendelijke groet,\nEva"),
    ("nl", "uncategorized", "Hoe komt u aan mijn emailadres?"),
    ("nl", "uncategorized", "Hallo, ik zie dat jullie ook in Utrecht zitten. Zijn jullie toevallig op zoek naar stagiairs?"),
    # ---------------- pl ----------------
    ("pl", "interested", "Dzien dobry, brzmi ciekawie. Prosze o przeslanie oferty i cennika."),
    ("pl", "interested", "Hej, a ile to kosztuje przy 50 użytkownikach? Macie jakieś materiały do poczytania?"),
    ("pl", "meeting", "Dzień dobry Panie Tomaszu,\n\ndziękuję za wiadomość. Chętnie porozmawiam — czy pasuje Panu wtorek o 10:00? Mogę też w czwartek po południu.\n\nPozdrawiam,\nAgnieszka"),
    ("pl", "not_interested", "Nie jesteśmy zainteresowani, dziękuję."),
    ("pl", "not_interested", "Dzien dobry,\n\ndziekuje za propozycje, ale w tym roku nie mamy budzetu na takie rozwiazania. Prosze sprobowac za rok.\n\nPozdrawiam"),
    ("pl", "unsubscribe", "Proszę usunąć mój adres z bazy i nie wysyłać więcej wiadomości. To jest spam."),
    ("pl", "wrong_person", "Nie zajmuję się tym, proszę napisać do działu IT: it@example.pl"),
    ("pl", "uncategorized", "Otrzymałem, dzięki."),
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
    for lang, expected, text in (CASES + SECOND_ROUND + THIRD_ROUND + FOURTH_ROUND
                                  + FIFTH_ROUND + SIXTH_ROUND):
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
    total = (len(CASES) + len(SECOND_ROUND) + len(THIRD_ROUND) + len(FOURTH_ROUND)
             + len(FIFTH_ROUND) + len(SIXTH_ROUND))
    accuracy = 1 - len(wrong) / total
    print(f"\nintent accuracy: {accuracy:.1%} over {total} replies in 8 languages (the table)")
    print("  correct per category:", dict(sorted(per_category.items())))
    for line in wrong:
        print("  miss:", line)
    assert accuracy >= 0.9


def test_held_out_replies():
    assert HELD_OUT, "HELD_OUT is empty: a held-out set written blind must be filled in"
    right = misfiled = found = 0
    misses = []
    for lang, expected, text in HELD_OUT:
        got = classify(parse(_message(text, quoted=True))).category
        right += got == expected
        found += got == expected != "uncategorized"
        if got != expected:
            wrong_category = got != "uncategorized"
            misfiled += wrong_category
            misses.append(f"[{lang}] {expected} -> {got}{' (misfiled)' if wrong_category else ''}: {text!r}")
    n = len(HELD_OUT)
    with_intent = sum(1 for row in HELD_OUT if row[1] != "uncategorized")
    print(f"\nheld-out intent: {right / n:.1%} right, {misfiled / n:.1%} misfiled, "
          f"{(n - right - misfiled) / n:.1%} left uncategorized, over {n} replies the rules were "
          f"not written for; intent found in {found}/{with_intent} that have one")
    for line in misses:
        print("  miss:", line)
    assert right / n >= 0.5
    assert misfiled / n <= 0.15


def test_quoted_cold_email_is_not_read():
    result = classify(parse(_message("Thanks for reaching out.", quoted=True)))
    assert result.kind == "reply"
    assert result.category == "uncategorized"


def test_unsubscribe_outranks_not_interested():
    result = classify(parse(_message("Not interested. Remove me from your list.", quoted=True)))
    assert result.category == "unsubscribe"
    assert any("lower priority" in r for r in result.reasons)


def test_negative_categories_outrank_positive_ones():
    from app.mail.rules import default_rules
    order = default_rules().intent_order
    for negative in ("unsubscribe", "not_interested"):
        for positive in ("meeting", "interested"):
            assert order.index(negative) < order.index(positive)
    # "me manda" (send me) is a phrase of interest, but not after "pare de" (stop)
    result = classify(parse(_message("Pare de me mandar email, nunca pedi isso.", quoted=True)))
    assert result.category == "unsubscribe"


# Written for round six: replies typed without their accents read like the ones with them.
WITHOUT_ACCENTS = [
    ("Ça ne nous intéresse pas.", "Ca ne nous interesse pas."),
    ("Não temos interesse.", "Nao temos interesse."),
    ("Nie jesteśmy zainteresowani.", "Nie jestesmy zainteresowani."),
    ("Bitte löschen Sie meine Daten.", "Bitte loeschen Sie meine Daten."),
    ("Ich bin nicht zuständig.", "Ich bin nicht zustaendig."),
    ("¿Podemos hablar el miércoles a las 10?", "Podemos hablar el miercoles a las 10?"),
    ("Désabonnez-moi.", "Desabonnez-moi."),
    ("Możemy porozmawiać w środę o 14.", "Mozemy porozmawiac w srode o 14."),
    ("Proszę usunąć mój adres z waszej listy.", "Prosze usunac moj adres z waszej listy."),
    ("Non mi occupo più di marketing.", "Non mi occupo piu di marketing."),
]


def test_accents_do_not_matter():
    for written, typed in WITHOUT_ACCENTS:
        expected = classify(parse(_message(written, quoted=True))).category
        assert expected != "uncategorized", written
        assert classify(parse(_message(typed, quoted=True))).category == expected, typed


def test_reasons_quote_the_reply_as_written():
    result = classify(parse(_message("Straße egal: ça ne nous intéresse pas.", quoted=True)))
    assert result.category == "not_interested"
    assert result.reasons[0] == "not interested: 'ne nous intéresse pas'"


# Written for round six: a negated phrase of interest or of a meeting is never read as one.
NEGATED = [
    "Ca ne nous interesse pas du tout.",
    "Das interessiert uns im Moment wirklich nicht.",
    "Dat interesseert ons niet.",
    "I don't need more information, thanks.",
    "Keine Zeit für einen Termin.",
    "Je n'ai pas besoin d'un rendez-vous.",
    "Dafür habe ich keine Zeit.",
    "Wir suchen nicht nach so etwas.",
    "Non stiamo cercando nulla del genere.",
    "Nie szukamy nowego dostawcy.",
    "Tenho interesse não.",
    "Dejen de mandarme correos.",
]
# ... while idioms that hold a negation word and mean yes stay positive.
POSITIVE_WITH_A_NO = [
    ("Why not send me the deck?", "interested"),
    ("No problem send me the pricing.", "interested"),
    ("Non vedo l'ora di sentirci giovedì.", "meeting"),
    ("Não vejo a hora de conversar na sexta de manhã.", "meeting"),
    ("Why don't we set up a call on Friday?", "meeting"),
    ("Not sure yet, but send me the deck.", "interested"),
]


def test_negation_never_turns_into_its_opposite():
    for text in NEGATED:
        result = classify(parse(_message(text, quoted=True)))
        assert result.category not in ("interested", "meeting"), (text, result.reasons)
    for text, expected in POSITIVE_WITH_A_NO:
        assert classify(parse(_message(text, quoted=True))).category == expected, text


def test_ordinary_sentences_are_not_read_as_a_refusal():
    for text in ("I'm not sure yet, send details.", "Loved the tip from your newsletter last week.",
                 "Under the contract we signed last year you owe us a refund.",
                 "We're not happy with our current provider, what do you charge?",
                 "Nasz aktualny dostawca nie ma takiej funkcji.", "I left you a voicemail yesterday.",
                 "Ohne Zustimmung des Vorstands kann ich nichts entscheiden."):
        category = classify(parse(_message(text, quoted=True))).category
        assert category in ("uncategorized", "interested"), (text, category)


def test_user_rules_are_folded_and_may_add_negations():
    extra = load_rules("[intent.interested]\npatterns = ['Zählt auf mich']\n"
                       "[negation]\nbefore = ['nope']\n")
    assert classify(parse(_message("zaehlt auf mich!", quoted=True)), extra).category == "interested"
    assert classify(parse(_message("Nope tell me more", quoted=True)), extra).category == "uncategorized"
    assert classify(parse(_message("Nope tell me more", quoted=True))).category == "interested"


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


def test_rules_that_set_flags_for_the_whole_expression_are_refused():
    """Valid alone, '(?i)…' would break the alternation every message is matched against."""
    import pytest
    with pytest.raises(ValueError, match="case-insensitively already"):
        load_rules("[intent.interested]\npatterns = ['(?i)count me in']\n")


def test_rules_with_a_backspace_are_refused():
    import pytest
    with pytest.raises(ValueError, match="control character"):
        load_rules('[intent.interested]\npatterns = ["\\byes\\b"]\n')


def test_the_shipped_rules_pass_the_checks_a_users_rules_get():
    """Every process that classifies loads the shipped rules without compiling each pattern
    alone (~55 ms); this is where they get that check: each pattern valid alone, folded, with
    no flags for the whole expression, and read the same either way."""
    from app.mail.rules import default_rules, shipped_rules_text
    assert load_rules(shipped_rules_text()) == default_rules()


# Texts made of what a clause mark or a word is made of: words (the conjunctions that end a
# clause among them), marks, dashes, spaces of several kinds, a line break.
_PIECES = ["but", "and", "not", "no", "e", "i", "ok", "we're", "über", "x_1", "42", "-", "\u2013", "—",
           ",", ".", "!", "(", "\"", " ", " ", "  ", "\t", "\n", "\u00a0"]
_CLAUSE_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_CLAUSE_TEXT, st.sampled_from([intent._CLAUSE, intent._CLAUSE_NEGATIVE]), st.integers(1, 6))
@example("we - - are not", intent._CLAUSE, 3)  # a dash between spaces right before the words
@example("not ok\n", intent._CLAUSE, 2)  # a word before a last line break
def test_the_words_before_a_cue_are_those_of_its_last_clause(head, clause, window):
    """A negation is looked for in the last words of the clause before a cue: found with the
    clause marks looked for near those words only, they are the words the whole text's split
    gives (a mark that began before the place the look starts from would cut them otherwise)."""
    assert intent.last_words(head, clause, window) == clause.split(head)[-1].split()[-window:]
    assert intent.without_word_end(head) == intent._WORD_HEAD.sub("", head)


@settings(max_examples=1000, deadline=None)
@given(_CLAUSE_TEXT, st.integers(1, 7))
@example("no - thanks", 1)  # a dash between spaces right after the words
def test_the_words_after_a_cue_are_those_of_its_clause(tail, count):
    assert intent.first_words(tail, intent._CLAUSE, count) == \
        intent._CLAUSE.split(tail, maxsplit=1)[0].split()[:count]
