from app.cli import main

# guarded: worker processes (app.imap.parsework) start a fresh interpreter that imports this module
if __name__ == "__main__":
    raise SystemExit(main())
