"""Who made each API token, and whether it outlives them (``pages.tokens``), and a review of a
person in the audit trail that takes in their tokens (``pages.people``, ``audit.html``); merged
into ``integrator.console.i18n``'s catalogue.

The rules said are ``AccessService``'s (docs/access.md, "Who may make one", "Taking away"): a
machine's token goes on working when the person who made it is deactivated, a person's own token
stops with their account. An admin reviewing tokens, or about to leave, has to know which."""

from __future__ import annotations

from typing import Final

EN: Final[dict[str, str]] = {
    "tokens_made.made_by": "Made by",
    "tokens_made.kind": "Whose",
    "tokens_made.kind.machine": "machine token: goes on working when its maker leaves",
    "tokens_made.kind.own": "own token of {owner}: stops with that account",
    # Beside the creation form of an admin, who may make either kind.
    "tokens_made.help_admin": (
        "Whose token it is: with roles in clusters you administer, the token you make is a "
        "machine token. It goes on working when your account is deactivated, until it expires "
        "or is revoked; only its roles that read patient data stop then, as they hold only "
        "while you hold them. A token with a grant beyond those clusters (one you hold "
        "yourself) is your own token instead: it acts only within your grants and stops when "
        "your account is deactivated. The next page says which it is."
    ),
    "tokens_made.help_own": (
        "Each token you make here is your own token: it stops when your account is deactivated."
    ),
    "tokens_made.created.machine": (
        "This is a machine token: it goes on working when your account is deactivated, until "
        "it expires or is revoked. Only its roles that read patient data stop with your account."
    ),
    "tokens_made.created.own": (
        "This is your own token: it acts only within your grants and stops when your account "
        "is deactivated."
    ),
    # The person's page: what the audit trail records of them, under which names.
    "tokens_made.review_title": "In the audit trail",
    "tokens_made.review_intro": (
        "What {actor} does with an API token is recorded under the token's name, not theirs. "
        "To review what this person did, search each of these:"
    ),
    "tokens_made.review_search": "Search {actor}",
    # The audit trail searched for a person.
    "tokens_made.audit_person": (
        "What a person does with an API token is recorded under the token's name "
        "(token:<name>), so this search does not take it in."
    ),
    "tokens_made.audit_person_search": "This person's tokens; search each of them too:",
}

NL: Final[dict[str, str]] = {
    "tokens_made.made_by": "Gemaakt door",
    "tokens_made.kind": "Van wie",
    "tokens_made.kind.machine": "machinetoken: blijft werken als zijn maker vertrekt",
    "tokens_made.kind.own": "eigen token van {owner}: stopt met dat account",
    "tokens_made.help_admin": (
        "Van wie het token is: met rollen in clusters die je beheert, is het token dat je maakt "
        "een machinetoken. Het blijft werken als je account wordt gedeactiveerd, tot het "
        "verloopt of wordt ingetrokken; alleen zijn rollen die patiëntgegevens lezen stoppen "
        "dan, want die gelden alleen zolang jij ze hebt. Een token met een recht buiten die "
        "clusters (een recht dat je zelf hebt) is in plaats daarvan je eigen token: het werkt "
        "alleen binnen je eigen rechten en stopt als je account wordt gedeactiveerd. De "
        "volgende pagina zegt welk van de twee het is."
    ),
    "tokens_made.help_own": (
        "Elk token dat je hier maakt, is je eigen token: het stopt als je account wordt "
        "gedeactiveerd."
    ),
    "tokens_made.created.machine": (
        "Dit is een machinetoken: het blijft werken als je account wordt gedeactiveerd, tot het "
        "verloopt of wordt ingetrokken. Alleen zijn rollen die patiëntgegevens lezen stoppen "
        "met je account."
    ),
    "tokens_made.created.own": (
        "Dit is je eigen token: het werkt alleen binnen je eigen rechten en stopt als je "
        "account wordt gedeactiveerd."
    ),
    "tokens_made.review_title": "In het auditlog",
    "tokens_made.review_intro": (
        "Wat {actor} met een API-token doet, wordt onder de naam van het token vastgelegd, niet "
        "onder de zijne. Zoek op elk van deze om na te gaan wat deze persoon deed:"
    ),
    "tokens_made.review_search": "Zoek {actor}",
    "tokens_made.audit_person": (
        "Wat iemand met een API-token doet, wordt onder de naam van het token vastgelegd "
        "(token:<naam>), dus deze zoekopdracht vindt dat niet."
    ),
    "tokens_made.audit_person_search": "De tokens van deze persoon; zoek ook op elk daarvan:",
}
