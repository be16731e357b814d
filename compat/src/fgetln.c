/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fgetln(3) on top of getline(3).  FreeBSD returns a pointer into the
 * stream's own buffer, valid until the next read on that stream; glibc's
 * FILE has no such buffer we may hand out, so each stream gets one here,
 * kept in a small table keyed by FILE*.  A slot is reused when the same FILE*
 * comes back (after fclose/fopen) and recycled round-robin when the table is
 * full, which only matters to a program reading more than
 * FGETLN_MAX_STREAMS streams line by line at once.
 */
#include "nalias-compat.h"
#include "bsd_rtmsg.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/types.h>

#define FGETLN_MAX_STREAMS 32

struct line_buffer {
	FILE	*stream;
	char	*data;
	size_t	cap;
};

static struct line_buffer line_buffers[FGETLN_MAX_STREAMS];
static unsigned next_victim;
static pthread_mutex_t line_buffers_lock = PTHREAD_MUTEX_INITIALIZER;

static struct line_buffer *
buffer_for(FILE *stream)
{
	struct line_buffer *free_slot = NULL, *slot;
	unsigned i;

	for (i = 0; i < FGETLN_MAX_STREAMS; i++) {
		if (line_buffers[i].stream == stream)
			return &line_buffers[i];
		if (line_buffers[i].stream == NULL && free_slot == NULL)
			free_slot = &line_buffers[i];
	}
	slot = free_slot ? free_slot : &line_buffers[next_victim++ % FGETLN_MAX_STREAMS];
	slot->stream = stream;
	return slot;
}

NALIAS_EXPORT char *
fgetln(FILE *stream, size_t *len)
{
	struct line_buffer *slot;
	ssize_t got;
	char *line = NULL;

	pthread_mutex_lock(&line_buffers_lock);
	slot = buffer_for(stream);
	got = getline(&slot->data, &slot->cap, stream);
	if (got > 0) {
		line = slot->data;
		*len = (size_t)got;
	}
	pthread_mutex_unlock(&line_buffers_lock);
	return line;
}
