"""--help in panels a person can scan, drawn by rich-click. rich-click (and
rich) load only when help is asked for: importing them costs a command that
scores about 25 ms, so the commands are plain click and their help is drawn
by a rich-click twin made on demand."""
from __future__ import annotations

import click

# an option not in a command is skipped; the rest go under "Options"
PANELS = [
    {"name": "Input", "options": [
        "--input-format", "--targets-format", "--class-names", "--target-col", "--id-col",
        "--class-axis", "--key", "--logprobs", "--logprob-col", "--shift"]},
    {"name": "Scoring", "options": [
        "--gamma", "--alpha", "--gammas", "--alphas", "--pt", "--mode", "--probs",
        "--ignore-index", "--drop-class", "--reduction", "--normalize", "--temperature",
        "--temperatures",
        "--loss", "--beta", "--easy-threshold", "--gamma-schedule", "--checkpoints"]},
    {"name": "Conventions", "options": [
        "--like", "--weights", "--soft-targets", "--label-smoothing", "--weight-col",
        "--class-weight", "--pos-weight"]},
    {"name": "Analysis", "options": [
        "--bins", "--top", "--classes", "--gradient", "--grad", "--map", "--ohem",
        "--ohem-ratio", "--background", "--bootstrap", "--seed", "--level", "--threshold",
        "--ids", "--metric"]},
    {"name": "Gates", "options": [
        "--fail-above", "--max-increase", "--max-rel-increase", "--per-class",
        "--significant"]},
    {"name": "Output", "options": [
        "--format", "--per-example", "--per-element", "--output", "--plot", "--data-map",
        "--tensorboard"]},
    {"name": "Scale", "options": ["--workers", "--scheduler", "--timeout", "--threads"]},
]


def help_config():
    import rich_click
    return rich_click.RichHelpConfiguration(
        option_groups={"*": PANELS}, width=100, max_width=100, text_markup="ansi",
        options_table_column_types=["opt_all", "metavar_short", "help"],
        padding_usage=(0, 0, 1, 0), padding_helptext=(0, 0, 0, 1), panel_title_string="{}:")


class RichHelp:
    """Mixed into the group and the commands: their help, through rich-click."""

    def get_help(self, ctx: click.Context) -> str:
        import rich_click
        twin_class = rich_click.RichGroup if isinstance(self, click.Group) else \
            rich_click.RichCommand
        twin = twin_class(name=self.name, params=self.params, help=self.help,
                          epilog=self.epilog, short_help=self.short_help,
                          options_metavar=self.options_metavar, hidden=self.hidden,
                          context_settings=self.context_settings,
                          **({"commands": self.every_command()}
                             if isinstance(self, click.Group) else {}))
        twin_ctx = rich_click.RichContext(twin, info_name=ctx.info_name, parent=ctx.parent,
                                          rich_help_config=help_config(),
                                          help_option_names=ctx.help_option_names,
                                          max_content_width=ctx.max_content_width)
        return twin.get_help(twin_ctx)


class Command(RichHelp, click.Command):
    pass
