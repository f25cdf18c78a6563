"""The Typer application object; each command lives in its own module."""
import typer

app = typer.Typer(name="sentiment-lab", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Train, evaluate and use recurrent-network sentiment classifiers (LSTM, GRU, ...).")
