# Guarded: a process started with ``spawn`` (``integrator.prepare_process``) imports this
# module again, as ``__mp_main__``, and must neither run the command a second time nor hold its
# collector (``integrator.startup_gc``), which no command would release there.
if __name__ == "__main__":
    from integrator import startup_gc

    startup_gc.hold()  # before the CLI's imports too
    from integrator.cli import main

    main()
