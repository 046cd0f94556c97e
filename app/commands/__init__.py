"""One module per replydesk subcommand: add_arguments(parser) and run(args) -> int."""
