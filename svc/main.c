/* main.c - herald's entry point: dispatches to the command table. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "herald/cli.h"
#include "herald/util.h"
#include "herald/version.h"

static const struct cmd *const commands[] = {
	&cmd_check, &cmd_agenda, &cmd_ics, &cmd_feeds, &cmd_members, &cmd_run,
	&cmd_send, &cmd_evidence, &cmd_report, &cmd_plan, &cmd_keys,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: herald COMMAND [ARGS...]\n\n"
		   "herald turns an ISO/IEC 27001 communication plan into calendar feeds,\n"
		   "scheduled messages and a tamper-evident evidence log.\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		/* A summary of several lines keeps to the column of its first. */
		const char *line = commands[i]->spec->summary;
		fprintf(f, "  %-10s ", commands[i]->spec->name);
		for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1)
			fprintf(f, "%.*s\n%13s", (int)(nl - line), line, "");
		fprintf(f, "%s\n", line);
	}
	fprintf(f, "\nherald COMMAND --help shows a command's options; "
		   "herald --version its version.\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_CTYPE, "C.UTF-8");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("herald %s\n", HERALD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i]->spec->name) == 0)
			return commands[i]->run(argc - 1, argv + 1);
	struct nearest nb = NEAREST(argv[1]);
	for (size_t i = 0; i < NCOMMANDS; i++)
		nearest_offer(&nb, commands[i]->spec->name);
	if (nb.best)
		fprintf(stderr, "herald: unknown command \"%s\" (did you mean \"%s\"?)\n",
			argv[1], nb.best);
	else
		fprintf(stderr, "herald: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
