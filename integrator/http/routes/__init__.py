"""One router per resource; ``integrator.http.app`` includes them all."""
