"""The console's sentence for each warning the engine keeps on a message, by its shape's code
(``shapes``, ``integrator.console.warning_text``), merged into
``integrator.console.i18n``'s catalogue as ``warning.<code>``.

The English sentences are the engine's own, as the CLI and the API show them; a test fails when
one differs from what the engine writes. The values keep their names from the shape: field
paths (``paths``), counts, versions, dates, event ids and event types (``expected``, ``got``)
are shown as they are; ``kind`` and ``other`` are the pages' words for a kind of event;
``reason`` is a warning itself, worded in the same language. A rule's name
(``cancel_without_new: …``) stays, as the metric and the logs name it.
"""

from __future__ import annotations

from typing import Final

_CANCEL_WITHOUT_NEW_EN: Final = (
    "cancel_without_new: no new {kind} with this ZD number was accepted before this cancel; the "
    "cancel is sent all the same, for a {kind} the destination may never have received"
)
_CANCEL_WITHOUT_NEW_NL: Final = (
    "cancel_without_new: met dit ZD-nummer is geen nieuwe {kind} aangenomen vóór deze "
    "annulering; de annulering wordt toch verstuurd, voor een {kind} die de bestemming "
    "misschien nooit heeft ontvangen"
)

EN: Final[dict[str, str]] = {
    # Lengths (mappings.lengths)
    "warning.lengths.shortened": "{paths} shortened to {limit} characters",
    "warning.lengths.kept_whole": "{paths} kept whole: longer than {limit} characters",
    # Character sets (mappings.charset)
    "warning.charset.transliterated_one": "1 character outside ISO 8859-1 was transliterated",
    "warning.charset.transliterated": "{count} characters outside ISO 8859-1 were transliterated",
    "warning.charset.replaced_one": (
        "1 character without a Latin-1 equivalent was replaced by '{replacement}'"
    ),
    "warning.charset.replaced": (
        "{count} characters without a Latin-1 equivalent were replaced by '{replacement}'"
    ),
    "warning.charset.surrogates_one": (
        "1 character that cannot be encoded in UTF-8 (lone surrogates) was replaced by "
        "'{replacement}'"
    ),
    "warning.charset.surrogates": (
        "{count} characters that cannot be encoded in UTF-8 (lone surrogates) were replaced by "
        "'{replacement}'"
    ),
    # Country codes (mappings.countries)
    "warning.countries.unknown": "{paths} country code not in ISO 3166-1: sent as given",
    # Message versions past their sunset (integrator.deprecation)
    "warning.version.held_retired": (
        "held: message version {version} is retired since {sunset}; move the destination to "
        "{successor} to release it"
    ),
    "warning.version.held_no_successor": (
        "held: message version {version} is retired since {sunset} and no supported successor "
        "exists"
    ),
    "warning.version.upgraded": (
        "message version {version} is retired since {sunset}; mapped with its successor "
        "{successor} (auto_upgrade)"
    ),
    # A refused mapping: the message is held (integrator.intake, mappings.errors)
    "warning.held": "held: {reason}",
    "warning.held_not_released": (
        "not released: its event no longer passes validation ({rules}); it cannot be sent, and "
        "stays held: the sender must send it again"
    ),
    "warning.mapping.unknown_version": (
        "unknown message version '{version}'; known versions: {known}"
    ),
    "warning.mapping.retired": (
        "message version '{version}' is retired since {sunset}; use its successor '{successor}'"
    ),
    "warning.mapping.retired_no_successor": (
        "message version '{version}' is retired since {sunset}"
    ),
    "warning.mapping.no_mapper": "message version '{version}' has no mapper yet",
    "warning.mapping.event_type_mismatch": (
        "message version '{version}' maps '{expected}' events, not '{got}' events"
    ),
    "warning.mapping.unknown_charset": (
        "unsupported MSH-18 character set '{charset}'; known: {known}"
    ),
    # The ZD number's history (integrator.zd_sequence)
    "warning.zd.cancel_without_new": _CANCEL_WITHOUT_NEW_EN,
    "warning.zd.cancel_without_new_other": (
        _CANCEL_WITHOUT_NEW_EN + " (event {earlier} has this ZD number as a {other})"
    ),
    "warning.zd.cancel_repeated": (
        "cancel_repeated: this ZD number's {kind} was cancelled before, in event {earlier}; "
        "this cancel is sent as well"
    ),
    "warning.zd.new_repeated": (
        "new_repeated: a new {kind} with this ZD number was accepted before, in event "
        "{earlier}; this one is sent as well, so the destination may make a second {kind} of it"
    ),
    "warning.zd.new_after_cancel": (
        "new_after_cancel: this ZD number's {kind} was cancelled before, in event {earlier}; "
        "this new one is sent as well, after the cancel"
    ),
    # The event's created_at ahead of its arrival (integrator.preparing)
    "warning.created_at_in_future": (
        "created_at_in_future: created_at is more than a day after the moment the event "
        "arrived; the event is accepted and sent as it is, and its messages carry that time "
        "(RF1-7 of a referral, ORC-9 of a request): check the sending system's clock"
    ),
}

NL: Final[dict[str, str]] = {
    "warning.lengths.shortened": "{paths} ingekort tot {limit} tekens",
    "warning.lengths.kept_whole": "{paths} niet ingekort: langer dan {limit} tekens",
    "warning.charset.transliterated_one": "1 teken buiten ISO 8859-1 is getranslitereerd",
    "warning.charset.transliterated": "{count} tekens buiten ISO 8859-1 zijn getranslitereerd",
    "warning.charset.replaced_one": (
        "1 teken zonder Latin-1-equivalent is vervangen door '{replacement}'"
    ),
    "warning.charset.replaced": (
        "{count} tekens zonder Latin-1-equivalent zijn vervangen door '{replacement}'"
    ),
    "warning.charset.surrogates_one": (
        "1 teken dat niet in UTF-8 kan (een losse surrogaat) is vervangen door '{replacement}'"
    ),
    "warning.charset.surrogates": (
        "{count} tekens die niet in UTF-8 kunnen (losse surrogaten) zijn vervangen door "
        "'{replacement}'"
    ),
    "warning.countries.unknown": (
        "landcode in {paths} staat niet in ISO 3166-1: verstuurd zoals opgegeven"
    ),
    "warning.version.held_retired": (
        "vastgehouden: berichtversie {version} is buiten gebruik sinds {sunset}; zet de "
        "bestemming op {successor} om het bericht vrij te geven"
    ),
    "warning.version.held_no_successor": (
        "vastgehouden: berichtversie {version} is buiten gebruik sinds {sunset} en er is geen "
        "ondersteunde opvolger"
    ),
    "warning.version.upgraded": (
        "berichtversie {version} is buiten gebruik sinds {sunset}; omgezet met de opvolger "
        "{successor} (auto_upgrade)"
    ),
    "warning.held": "vastgehouden: {reason}",
    "warning.held_not_released": (
        "niet vrijgegeven: de opgeslagen gebeurtenis voldoet niet meer aan de regels "
        "({rules}); het bericht kan niet worden verstuurd en blijft vastgehouden: de verzender "
        "moet het opnieuw sturen"
    ),
    "warning.mapping.unknown_version": (
        "onbekende berichtversie '{version}'; bekende versies: {known}"
    ),
    "warning.mapping.retired": (
        "berichtversie '{version}' is buiten gebruik sinds {sunset}; gebruik de opvolger "
        "'{successor}'"
    ),
    "warning.mapping.retired_no_successor": (
        "berichtversie '{version}' is buiten gebruik sinds {sunset}"
    ),
    "warning.mapping.no_mapper": "voor berichtversie '{version}' is nog geen omzetting",
    "warning.mapping.event_type_mismatch": (
        "berichtversie '{version}' zet gebeurtenissen van het type '{expected}' om, niet van "
        "het type '{got}'"
    ),
    "warning.mapping.unknown_charset": (
        "tekenset '{charset}' wordt niet ondersteund in MSH-18; bekend: {known}"
    ),
    "warning.zd.cancel_without_new": _CANCEL_WITHOUT_NEW_NL,
    "warning.zd.cancel_without_new_other": (
        _CANCEL_WITHOUT_NEW_NL + " (gebeurtenis {earlier} heeft dit ZD-nummer als {other})"
    ),
    "warning.zd.cancel_repeated": (
        "cancel_repeated: de {kind} met dit ZD-nummer is al eerder geannuleerd, in gebeurtenis "
        "{earlier}; deze annulering wordt ook verstuurd"
    ),
    "warning.zd.new_repeated": (
        "new_repeated: een nieuwe {kind} met dit ZD-nummer is al eerder aangenomen, in "
        "gebeurtenis {earlier}; deze wordt ook verstuurd, dus de bestemming maakt er misschien "
        "een tweede {kind} van"
    ),
    "warning.zd.new_after_cancel": (
        "new_after_cancel: de {kind} met dit ZD-nummer is eerder geannuleerd, in gebeurtenis "
        "{earlier}; deze nieuwe wordt ook verstuurd, na de annulering"
    ),
    "warning.created_at_in_future": (
        "created_at_in_future: created_at ligt meer dan een dag na het moment waarop de "
        "gebeurtenis binnenkwam; ze is aangenomen en wordt verstuurd zoals ze is, en haar "
        "berichten dragen die tijd (RF1-7 van een verwijzing, ORC-9 van een aanvraag): laat de "
        "klok van het verzendende systeem nakijken"
    ),
}


def _unnamed(catalogue: dict[str, str], named: str, unnamed: str) -> dict[str, str]:
    """Each ZD warning that names an earlier event, in the form that does not
    (``zd_sequence.unnamed``: the event lies outside the reader's clusters)."""
    return {
        f"{key}_outside": text.replace(named, unnamed)
        for key, text in catalogue.items()
        if key.startswith("warning.zd.") and named in text
    }


EN.update(_unnamed(EN, "event {earlier}", "an event outside your clusters"))
NL.update(_unnamed(NL, "gebeurtenis {earlier}", "een gebeurtenis buiten je clusters"))
