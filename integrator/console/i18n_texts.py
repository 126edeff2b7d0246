"""The console's sentence for each text the engine keeps in English and writes by a shape
(``shapes``, ``integrator.console.shaped``), merged into ``integrator.console.i18n``'s
catalogue as ``text.<code>``: a delivery's error, a destination's version notices, a rejected
input's rules.

The English sentences are the engine's own templates, as the CLI and the API show them; a test
fails when one differs from the shape's. A value a remote system or a person wrote (an ACK's
MSA-3 and ERR, MSA-2, the system's words about a socket or a file, why a destination was
removed) is shown as it is, in quotes; the class of a delivery error follows its sentence, in
brackets, as the class names what support may search the engine's log for.
"""

from __future__ import annotations

from typing import Final

from integrator.console.rule_text import RULES
from integrator.console.shaped import PREFIX

EN: Final[dict[str, str]] = {
    # A delivery's error (integrator.console.delivery_text)
    "text.delivery.failed": "{kind}: {cause}",
    "text.delivery.negative_ack": "ACK {ack}",
    # English pages show the engine's text as stored (``delivery_text._ack_meant``).
    "ack.meaning.AR": "refused the message",
    "ack.meaning.AE": "an error in processing the message",
    "ack.meaning.CR": "refused the message on receipt",
    "ack.meaning.CE": "an error on receipt",
    "text.delivery.negative_ack_saying": "ACK {ack}: {text}",
    "text.delivery.negative_ack_cut": (
        "ACK {ack}: {text}… ({more} more characters; the whole ACK is kept with the attempt)"
    ),
    "text.delivery.negative_ack_withheld": "ACK {ack} (receiver's text withheld)",
    "text.delivery.gave_up": "{error}; {why}",
    "text.delivery.not_kept": (
        "not kept: the store refused this attempt's error text and ACK ({error_code})"
    ),
    "text.delivery.out_of_attempts": (
        "gave up after {attempts} attempts (max_attempts {max_attempts})"
    ),
    "text.delivery.out_of_time": "gave up after {attempts} attempts (max_age {max_age}s reached)",
    "text.delivery.out_of_time_since_release": (
        "gave up after {attempts} attempts (max_age {max_age}s reached, counted from its release "
        "from held at {at})"
    ),
    "text.delivery.out_of_time_since_resume": (
        "gave up after {attempts} attempts (max_age {max_age}s reached, counted from its "
        "destination's resume at {at})"
    ),
    "text.delivery.second_commit_ack": (
        "a second commit ACK came where the application ACK was expected"
    ),
    "text.delivery.connect_timed_out": "connect to {where} timed out after {seconds}s",
    "text.delivery.tls_handshake_unanswered": (
        "TLS handshake with {where} got no answer within {seconds}s "
        "(does the receiver speak TLS on this port?)"
    ),
    "text.delivery.connect_failed": "connect to {where} failed: {cause}",
    "text.delivery.refused": "ConnectionRefusedError: {detail}",
    "text.delivery.socket_error": "{kind}: {detail}",
    "text.delivery.tls_unverified": "TLS certificate verification failed ({detail})",
    "text.delivery.tls_failed": "TLS error ({detail})",
    "text.delivery.tls_handshake_closed": (
        "the receiver closed the connection during the TLS handshake "
        "(was the client certificate missing or refused?)"
    ),
    "text.delivery.tls_closed": (
        "the receiver closed the TLS connection before answering "
        "(was the client certificate missing or refused?)"
    ),
    "text.delivery.tls_closed_saying": (
        "the receiver closed the TLS connection before answering: {reason} "
        "(was the client certificate missing or refused?)"
    ),
    "text.delivery.connection_closed": "connection closed before the ACK arrived",
    "text.delivery.closed_in_frame": (
        "connection closed before the ACK arrived: an MLLP frame of {count} bytes began but never "
        "ended (no 0x1C 0x0D end block)"
    ),
    "text.delivery.closed_after_unframed": (
        "connection closed before the ACK arrived: {count} bytes came outside an MLLP frame "
        "(no 0x0B start block before them)"
    ),
    "text.delivery.no_ack": "no ACK within {seconds}s",
    "text.delivery.send_stalled": (
        "the receiver stopped reading: {written} of {size} bytes written, none taken for {seconds}s"
    ),
    "text.delivery.unframed_answer": (
        "no ACK within {seconds}s: {count} bytes came outside an MLLP frame "
        "(no 0x0B start block before them)"
    ),
    "text.delivery.unfinished_frame": (
        "no ACK within {seconds}s: an MLLP frame of {count} bytes began but never ended "
        "(no 0x1C 0x0D end block)"
    ),
    "text.delivery.no_application_ack": (
        "no application ACK after the commit ACK within {seconds}s"
    ),
    "text.delivery.skipped_frames": (
        "{error}; {count} frame(s) came that answer no message sent now, skipped ({kinds})"
    ),
    "text.delivery.control_id_mismatch": (
        "MSA-2 (length {length}) does not match the MSH-10 sent '{expected}'"
    ),
    "text.delivery.control_id_of_another": (
        "MSA-2 {received} is not the MSH-10 sent '{expected}', but has the form of the MSH-10s "
        "this engine sends: the answer to another message (an earlier one, likely)"
    ),
    "text.delivery.frame_too_large": "MLLP frame larger than the limit of {limit} bytes",
    "text.delivery.ack_empty": "ACK is empty",
    "text.delivery.ack_no_msh": "ACK does not start with an MSH segment",
    "text.delivery.ack_no_field_separator": "ACK has no valid field separator in MSH-1",
    "text.delivery.ack_no_encoding_characters": "ACK has no valid encoding characters in MSH-2",
    "text.delivery.ack_no_msa": "ACK has no MSA segment",
    "text.delivery.ack_msa_twice": (
        "ACK has more than one MSA segment (an ACK answers one message)"
    ),
    "text.delivery.ack_no_code": "ACK MSA-1 (acknowledgment code) is empty",
    "text.delivery.ack_unknown_code": "ACK MSA-1 is not one of AA, AE, AR, CA, CE, CR",
    "text.delivery.ack_unknown_code_named": (
        "ACK MSA-1 {msa_1} is not one of AA, AE, AR, CA, CE, CR"
    ),
    "text.delivery.payload_start_byte": "payload contains the MLLP start block byte 0x0B",
    "text.delivery.payload_end_byte": "payload contains the MLLP end block byte 0x1C",
    "text.delivery.tls_not_loaded": "{files} could not be loaded ({reason})",
    "text.destination.removed": "destination removed by {actor}",
    "text.destination.removed_because": "destination removed by {actor}: {reason}",
    # A destination's version notices (integrator.console.notice_text)
    "text.notice.retired_held": (
        "destination '{id}': {key} uses retired message version '{version}' (sunset {sunset}); "
        "new messages are held until it moves to '{successor}'"
    ),
    "text.notice.retired_upgraded": (
        "destination '{id}': {key} uses retired message version '{version}' (sunset {sunset}); "
        "new messages are mapped with the successor until it moves to '{successor}'"
    ),
    "text.notice.deprecated": (
        "destination '{id}': {key} uses deprecated message version '{version}'; sunset "
        "{sunset}, move to '{successor}'"
    ),
    "text.notice.unrouted_waiting": (
        "{count} unrouted event(s) wait for provider '{provider}', now served by this "
        "destination: route them with `integrator events route --provider {provider_word} "
        '--reason "..."`'
    ),
    "text.notice.unrouted_still_waiting": (
        "{count} unrouted event(s) still wait for provider '{provider}', which this destination "
        "serves: route them with `integrator events route --provider {provider_word} "
        '--reason "..."`'
    ),
    "text.notice.no_providers": "destination '{id}' serves no providers: it receives nothing",
    # A rejected input's broken rules (integrator.console.rule_text): the English is the
    # sentence of each rule's shape, as intake writes it.
    **{PREFIX + shape.code: shape.template for shape in RULES.shapes},
}

NL: Final[dict[str, str]] = {
    "text.delivery.failed": "{cause} ({kind})",
    "text.delivery.negative_ack": "de ontvanger antwoordde met ACK {ack}",
    "ack.meaning.AR": "bericht geweigerd",
    "ack.meaning.AE": "fout bij het verwerken van het bericht",
    "ack.meaning.CR": "bericht bij ontvangst geweigerd",
    "ack.meaning.CE": "fout bij ontvangst",
    "text.delivery.negative_ack_saying": 'de ontvanger antwoordde met ACK {ack}: "{text}"',
    "text.delivery.negative_ack_cut": (
        'de ontvanger antwoordde met ACK {ack}: "{text}…" ({more} tekens meer; de hele ACK '
        "is bij de poging bewaard)"
    ),
    "text.delivery.negative_ack_withheld": (
        "de ontvanger antwoordde met ACK {ack} (de tekst van de ontvanger wordt hier niet getoond)"
    ),
    "text.delivery.gave_up": "{error}; {why}",
    "text.delivery.not_kept": (
        "niet bewaard: de opslag weigerde de fouttekst en de ACK van deze poging ({error_code})"
    ),
    "text.delivery.out_of_attempts": (
        "opgegeven na {attempts} pogingen (max_attempts {max_attempts})"
    ),
    "text.delivery.out_of_time": "opgegeven na {attempts} pogingen (max_age {max_age}s bereikt)",
    "text.delivery.out_of_time_since_release": (
        "opgegeven na {attempts} pogingen (max_age {max_age}s bereikt, gerekend vanaf het "
        "vrijgeven na het vasthouden op {at})"
    ),
    "text.delivery.out_of_time_since_resume": (
        "opgegeven na {attempts} pogingen (max_age {max_age}s bereikt, gerekend vanaf het "
        "hervatten van de bestemming op {at})"
    ),
    "text.delivery.second_commit_ack": (
        "er kwam een tweede commit-ACK waar de applicatie-ACK werd verwacht"
    ),
    "text.delivery.connect_timed_out": "verbinden met {where} duurde langer dan {seconds}s",
    "text.delivery.tls_handshake_unanswered": (
        "de TLS-handshake met {where} kreeg binnen {seconds}s geen antwoord "
        "(spreekt de ontvanger TLS op deze poort?)"
    ),
    "text.delivery.connect_failed": "verbinden met {where} mislukt: {cause}",
    "text.delivery.refused": 'de verbinding werd geweigerd ("{detail}")',
    "text.delivery.socket_error": "{kind}: {detail}",
    "text.delivery.tls_unverified": 'het TLS-certificaat is niet goedgekeurd ("{detail}")',
    "text.delivery.tls_failed": 'TLS-fout ("{detail}")',
    "text.delivery.tls_handshake_closed": (
        "de ontvanger verbrak de verbinding tijdens de TLS-handshake "
        "(ontbrak het clientcertificaat of werd het geweigerd?)"
    ),
    "text.delivery.tls_closed": (
        "de ontvanger verbrak de TLS-verbinding zonder te antwoorden "
        "(ontbrak het clientcertificaat of werd het geweigerd?)"
    ),
    "text.delivery.tls_closed_saying": (
        "de ontvanger verbrak de TLS-verbinding zonder te antwoorden: {reason} "
        "(ontbrak het clientcertificaat of werd het geweigerd?)"
    ),
    "text.delivery.connection_closed": "de verbinding werd verbroken voordat de ACK binnenkwam",
    "text.delivery.closed_in_frame": (
        "de verbinding werd verbroken voordat de ACK binnenkwam: een MLLP-frame van {count} "
        "bytes begon maar eindigde niet (geen eindblok 0x1C 0x0D)"
    ),
    "text.delivery.closed_after_unframed": (
        "de verbinding werd verbroken voordat de ACK binnenkwam: {count} bytes kwamen buiten "
        "een MLLP-frame (geen startbyte 0x0B ervoor)"
    ),
    "text.delivery.no_ack": "geen ACK binnen {seconds}s",
    "text.delivery.send_stalled": (
        "de ontvanger las niet meer: {written} van {size} bytes geschreven, {seconds}s lang "
        "niets afgenomen"
    ),
    "text.delivery.unframed_answer": (
        "geen ACK binnen {seconds}s: {count} bytes kwamen buiten een MLLP-frame "
        "(geen startbyte 0x0B ervoor)"
    ),
    "text.delivery.unfinished_frame": (
        "geen ACK binnen {seconds}s: een MLLP-frame van {count} bytes begon maar eindigde niet "
        "(geen eindblok 0x1C 0x0D)"
    ),
    "text.delivery.no_application_ack": ("geen applicatie-ACK binnen {seconds}s na de commit-ACK"),
    "text.delivery.skipped_frames": (
        "{error}; {count} {count|frame overgeslagen dat|frames overgeslagen die} geen antwoord "
        "op het verstuurde bericht {count|was|waren} ({kinds})"
    ),
    "text.delivery.control_id_mismatch": (
        "MSA-2 (lengte {length}) is niet de MSH-10 die verstuurd is ('{expected}')"
    ),
    "text.delivery.control_id_of_another": (
        "MSA-2 {received} is niet de MSH-10 die verstuurd is ('{expected}'), maar heeft de vorm "
        "van de MSH-10's die deze engine verstuurt: het antwoord op een ander bericht (een "
        "eerder, waarschijnlijk)"
    ),
    "text.delivery.frame_too_large": "MLLP-frame groter dan de grens van {limit} bytes",
    "text.delivery.ack_empty": "de ACK is leeg",
    "text.delivery.ack_no_msh": "de ACK begint niet met een MSH-segment",
    "text.delivery.ack_no_field_separator": (
        "de ACK heeft geen geldig veldscheidingsteken in MSH-1"
    ),
    "text.delivery.ack_no_encoding_characters": (
        "de ACK heeft geen geldige coderingstekens in MSH-2"
    ),
    "text.delivery.ack_no_msa": "de ACK heeft geen MSA-segment",
    "text.delivery.ack_msa_twice": (
        "de ACK heeft meer dan één MSA-segment (een ACK beantwoordt één bericht)"
    ),
    "text.delivery.ack_no_code": "MSA-1 (de ACK-code) van de ACK is leeg",
    "text.delivery.ack_unknown_code": "MSA-1 van de ACK is niet een van AA, AE, AR, CA, CE, CR",
    "text.delivery.ack_unknown_code_named": (
        "MSA-1 van de ACK, {msa_1}, is niet een van AA, AE, AR, CA, CE, CR"
    ),
    "text.delivery.payload_start_byte": "het bericht bevat de MLLP-startbyte 0x0B",
    "text.delivery.payload_end_byte": "het bericht bevat de MLLP-eindbyte 0x1C",
    "text.delivery.tls_not_loaded": '{files} kon niet worden geladen ("{reason}")',
    "text.destination.removed": "bestemming verwijderd door {actor}",
    "text.destination.removed_because": 'bestemming verwijderd door {actor}: "{reason}"',
    "text.notice.retired_held": (
        "bestemming '{id}': {key} gebruikt berichtversie '{version}', die buiten gebruik is "
        "sinds {sunset}; nieuwe berichten worden vastgehouden tot de bestemming overgaat op "
        "'{successor}'"
    ),
    "text.notice.retired_upgraded": (
        "bestemming '{id}': {key} gebruikt berichtversie '{version}', die buiten gebruik is "
        "sinds {sunset}; nieuwe berichten worden omgezet met de opvolger tot de bestemming "
        "overgaat op '{successor}'"
    ),
    "text.notice.deprecated": (
        "bestemming '{id}': {key} gebruikt verouderde berichtversie '{version}'; buiten "
        "gebruik vanaf {sunset}, ga over op '{successor}'"
    ),
    "text.notice.unrouted_waiting": (
        "{count} {count|gebeurtenis zonder bestemming wacht|"
        "gebeurtenissen zonder bestemming wachten} op zorgaanbieder '{provider}', die deze "
        "bestemming nu bedient: deze wijziging routeert ze niet; routeer ze op de pagina "
        "Gebeurtenissen zonder bestemming of met `integrator events route --provider "
        '{provider_word} --reason "..."`'
    ),
    "text.notice.unrouted_still_waiting": (
        "{count} {count|gebeurtenis zonder bestemming wacht|"
        "gebeurtenissen zonder bestemming wachten} nog op zorgaanbieder '{provider}', die "
        "deze bestemming bedient: routeer ze op de pagina Gebeurtenissen zonder bestemming of "
        'met `integrator events route --provider {provider_word} --reason "..."`'
    ),
    "text.notice.no_providers": (
        "bestemming '{id}' bedient geen zorgaanbieders: ze ontvangt niets"
    ),
    "text.rule.json_syntax": "is geen geldige JSON",
    "text.rule.duplicate_key": (
        "staat twee keer in hetzelfde object; welke van de twee bedoeld is, valt niet te zeggen"
    ),
    "text.rule.required": "is verplicht",
    "text.rule.unknown_field": "is geen bekend veld",
    "text.rule.type": "heeft het verkeerde type",
    "text.rule.allowed_values": "is geen van de toegestane waarden",
    "text.rule.blank": "mag niet leeg zijn",
    "text.rule.too_short": "heeft te weinig onderdelen",
    "text.rule.too_many_items": "heeft meer onderdelen dan deze lijst toelaat",
    "text.rule.at_least_one": "moet minstens één onderdeel bevatten",
    "text.rule.invalid": "is niet geldig",
    "text.rule.more_errors": "… en meer, niet genoemd",
    "text.rule.text_too_long": "is langer dan 1000 tekens, het maximum voor dit veld",
    "text.rule.long_text_too_long": (
        "is langer dan 65536 tekens, het maximum voor een vrij-tekstveld"
    ),
    "text.rule.event_text_too_long": (
        "bevat in totaal meer dan 1000000 tekens tekst (de gegevens van bijlagen niet meegeteld)"
    ),
    "text.rule.schema_version": "moet het getal 1 zijn (de enige ondersteunde schemaversie)",
    "text.rule.uuid_format": "moet een UUID zijn",
    "text.rule.uuid_unset": (
        "moet een UUID zijn die voor deze gebeurtenis gemaakt is, niet de nil-UUID (alles 0) of "
        "de max-UUID (alles f), waar een niet ingevuld veld op terugvalt"
    ),
    "text.rule.zd_number_format": "moet een ZD-nummer zijn: 'ZD' gevolgd door 9 cijfers",
    "text.rule.date_format": "moet een bestaande datum in ISO 8601-vorm zijn (JJJJ-MM-DD)",
    "text.rule.datetime_format": (
        "moet een RFC 3339-tijdstip zijn (JJJJ-MM-DDTuu:mm:ss met een tijdverschil)"
    ),
    "text.rule.timezone_required": (
        "moet een tijdverschil met UTC hebben, zoals +01:00 of Z (RFC 3339)"
    ),
    "text.rule.datetime_range": (
        "moet tussen 0001-01-02 en 9999-12-30 (UTC) liggen, de tijden die intake aankan"
    ),
    "text.rule.bsn_format": "moet een BSN van precies 9 cijfers zijn",
    "text.rule.bsn_eleven_test": "moet voldoen aan de elfproef voor een BSN",
    "text.rule.bsn_or_address": "heeft een BSN of een adres nodig (minstens een van beide)",
    "text.rule.agb_format": "moet een AGB-code van precies 8 cijfers zijn",
    "text.rule.big_format": "moet een BIG-nummer van precies 11 cijfers zijn",
    "text.rule.uzovi_format": "moet een UZOVI-nummer van precies 4 cijfers zijn",
    "text.rule.provider_id_format": "mag hoogstens 128 tekens lang zijn, geen ervan een stuurteken",
    "text.rule.postcode_format": (
        "moet een Nederlandse postcode zijn: 4 cijfers (niet beginnend met 0) en 2 letters"
    ),
    "text.rule.country_format": (
        "moet een toegekende ISO 3166-1 alpha-2-landcode in hoofdletters zijn, bijvoorbeeld NL"
    ),
    "text.rule.email_format": "moet een e-mailadres zijn (naam@domein.tld)",
    "text.rule.house_number": "moet een positief geheel getal of een niet-lege tekst zijn",
    "text.rule.partner_family_required": (
        "is verplicht als name_usage de naam van de partner gebruikt"
    ),
    "text.rule.icpc_format": (
        "moet een ICPC-1-code zijn: een letter en 2 cijfers, eventueel met .1-2 cijfers"
    ),
    "text.rule.birth_date_after_created_at": (
        "mag niet later zijn dan de datum van created_at van de gebeurtenis (in welke tijdzone ook)"
    ),
    "text.rule.birth_date_in_future": (
        "mag niet later zijn dan de dag waarop de gebeurtenis binnenkwam"
    ),
    "text.rule.provider_id_holds_bsn": (
        "mag geen BSN bevatten: hier hoort de eigen id van de zorgaanbieder, nooit het nummer "
        "van de patiënt"
    ),
    "text.rule.changed_duplicate": (
        "noemt een eerder geaccepteerde gebeurtenis, met andere inhoud; de wijziging is niet "
        "overgenomen"
    ),
    "text.rule.answer_required": "is verplicht omdat de vraag verplicht is",
    "text.rule.answer_type": (
        "past niet bij de answer_type van de vraag: yes_no neemt true of false, open een tekst, "
        "multiple_choice een lijst van zijn opties, date een datum JJJJ-MM-DD"
    ),
    "text.rule.answer_not_in_options": "bevat een keuze die niet bij de opties van de vraag hoort",
    "text.rule.answer_duplicate": "bevat dezelfde keuze meer dan eens",
    "text.rule.options_required": (
        "is verplicht (minstens één optie) bij answer_type multiple_choice"
    ),
    "text.rule.base64": "moet geldige base64 zijn (standaardalfabet, juiste opvulling)",
    "text.rule.filename_format": (
        "moet een bestandsnaam zijn zonder padscheidingstekens of stuurtekens"
    ),
    "text.rule.attachment_too_large": "is gedecodeerd groter dan 20 MiB",
    "text.rule.attachments_total_too_large": "zijn gedecodeerd samen groter dan 50 MiB",
    "text.rule.content_mismatch": (
        "past niet bij het opgegeven content_type: een PDF begint met %PDF-, een PNG en een "
        "JPEG met hun handtekening, text/plain is UTF-8"
    ),
    "text.rule.type_string": "moet een tekst zijn",
    "text.rule.type_boolean": "moet een booleaanse waarde zijn (true of false)",
    "text.rule.type_integer": "moet een geheel getal zijn",
    "text.rule.type_object": "moet een object zijn",
    "text.rule.type_one_event": (
        "moet een object zijn: één gebeurtenis per verzoek, geen lijst ervan"
    ),
    "text.rule.type_json_text": "moet JSON-tekst zijn",
    "text.rule.type_list": "moet een lijst zijn",
    "text.rule.one_of": "moet een van deze zijn: {expected}",
    "text.rule.at_least": "moet minstens {count} {count|onderdeel|onderdelen} bevatten",
    "text.rule.at_most": "moet hoogstens {count} {count|onderdeel|onderdelen} bevatten",
    "text.rule.more_errors_counted": (
        "… en nog {count}, niet genoemd (een antwoord noemt er hoogstens 100)"
    ),
    "text.rule.event_text_too_long_in": (
        "bevat in totaal meer dan 1000000 tekens tekst (de gegevens van bijlagen niet "
        "meegeteld); het meeste in {parts}"
    ),
    "text.rule.unknown_field_elsewhere": "is hier geen veld; het schema heeft het bij {places}",
    "text.rule.unknown_field_like": "is geen bekend veld; bedoel je {key}?",
    "text.rule.json_syntax_at": 'is geen geldige JSON: "{detail}"',
    "text.rule.json_syntax_bom": (
        "is geen geldige JSON: het begint met een UTF-8-byte-order-mark; stuur het zonder"
    ),
    "text.rule.json_syntax_gzip": (
        "is geen geldige JSON: het lijkt met gzip gecomprimeerd; stuur gewone JSON"
    ),
    "text.rule.json_syntax_utf8": "is geen geldige JSON: het is geen UTF-8; stuur het als UTF-8",
    "text.rule.unknown": "is niet geldig (regel {rule})",
    "text.rule.body_declared_too_large": (
        "is opgegeven als {size} bytes, meer dan de {limit} bytes die deze route aanneemt; "
        "de inhoud is niet gelezen of bewaard"
    ),
    "text.rule.body_cut_off": (
        "ging over de {limit} bytes die deze route aanneemt en is na {size} bytes afgebroken; "
        "de inhoud is niet bewaard"
    ),
    "text.rule.body_over_limit": (
        "is {size} bytes, meer dan de {limit} bytes die een gebeurtenis mag zijn; de inhoud is "
        "niet als gebeurtenis gelezen of bewaard"
    ),
    "text.rule.media_type_sent_as": (
        "is verstuurd als {media_type}, niet als JSON: een gebeurtenis vraagt om 'Content-Type: "
        "application/json'"
    ),
    "text.rule.charset_sent_in": (
        "is opgegeven in tekenset {charset}: JSON is UTF-8 (RFC 8259); stuur het als UTF-8, "
        "zonder charset of met charset=utf-8"
    ),
    "text.rule.charset_unreadable": (
        "is opgegeven in een andere tekenset dan UTF-8: JSON is UTF-8 (RFC 8259); stuur het "
        "als UTF-8, zonder charset of met charset=utf-8"
    ),
    "text.rule.media_type_unreadable": (
        "is verstuurd zonder leesbaar content type, niet als JSON: een gebeurtenis vraagt om "
        "'Content-Type: application/json'"
    ),
    "text.rule.request_query": (
        "is verstuurd met query-parameters, en een ingezonden gebeurtenis neemt er geen (genoemd "
        "in het antwoord): stuur de gebeurtenis alleen, in de inhoud"
    ),
}
