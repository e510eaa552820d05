/*
 * evidence_backup.c - an online copy of the evidence database that is
 * verified before it takes the place of the destination (see evidence.h).
 */
#include "herald/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "herald/store.h"

static enum herald_rc fsync_path(const char *path, int flags,
				 struct herald_err *err)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return herald_err_set(err, H_ERUNTIME, "backup: %s: %s", path, strerror(e));
	}
	close(fd);
	return H_OK;
}

enum herald_rc evidence_backup(const char *src_path, const char *dest,
			       struct evidence_head *head, int64_t *rows,
			       struct herald_err *err)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (realpath(src_path, a) && realpath(dest, b) && strcmp(a, b) == 0)
		return herald_err_set(err, H_EUSAGE, "backup: %s is the database itself", dest);
	struct store *src = NULL;
	struct store_open_opts ro = { .readonly = true };
	enum herald_rc rc = store_open(src_path, &ro, &src, err);
	if (rc)
		return rc;
	char *tmp = xasprintf("%s.tmp.%ld", dest, (long)getpid());
	unlink(tmp);
	if ((rc = store_copy(src, tmp, NULL, err)))
		goto done;
	if ((rc = fsync_path(tmp, O_RDONLY, err)))
		goto done;
	struct store *copy = NULL;
	if ((rc = store_open(tmp, &ro, &copy, err)))
		goto done;
	rc = evidence_verify(copy, head, rows, err);
	store_close(copy);
	if (rc) {
		herald_err_prefix(err, "backup copy does not verify");
		goto done;
	}
	if (rename(tmp, dest) != 0) {
		rc = herald_err_set(err, H_ERUNTIME, "backup: %s: %s", dest, strerror(errno));
		goto done;
	}
	char *dir = xstrdup(dest);
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	rc = fsync_path(slash ? dir : ".", O_RDONLY | O_DIRECTORY, err);
	free(dir);
done:
	if (rc)
		unlink(tmp);
	free(tmp);
	store_close(src);
	return rc;
}
