# Guarded: a process started with ``spawn`` (``integrator.prepare_process``) imports this
# module again, as ``__mp_main__``, and must neither run the command a second time nor hold its
# collector (``integrator.gcpolicy``), which no command would release there.
if __name__ == "__main__":
    from integrator import gcpolicy

    gcpolicy.hold_for_imports()  # before the CLI's imports too
    from integrator.cli import main

    main()
