"""The audit of patient-data views, for the API's routes: ``integrator.patient_views``.

Recording a view is not the API's own business (the console's pages record theirs the same
way, through the services they share), so it lives outside ``http``; this name stays for the
routes that import it from here.
"""

from __future__ import annotations

from integrator.patient_views import PATIENT_DATA_VIEW, record_view

__all__ = ["PATIENT_DATA_VIEW", "record_view"]
