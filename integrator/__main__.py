from integrator.cli import main

# Guarded: a process started with ``spawn`` (``integrator.prepare_process``) imports this
# module again, as ``__mp_main__``, and must not run the command a second time.
if __name__ == "__main__":
    main()
