/* recommend.h - from an emotion to a playlist: emotions on the
 * valence-energy circumplex, the song catalogue, the listener's profile
 * learned from the feedback log, and the ranking.
 *
 * Points are (valence, energy) in Spotify's 0..1 units.  Songs are placed
 * by their own valence and energy; an emotion by the probability-weighted
 * mean of the points of its classes.
 */
#ifndef VB_RECOMMEND_H
#define VB_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "feedback.h"

/* --- emotions ---------------------------------------------------------- */

/* FER2013's seven classes, in its label order. */
enum { VB_EMO_ANGRY, VB_EMO_DISGUST, VB_EMO_FEAR, VB_EMO_HAPPY, VB_EMO_SAD,
       VB_EMO_SURPRISE, VB_EMO_NEUTRAL, VB_NEMO };

struct vb_point {
	double valence, energy;
};

/* The class name ("angry", ...); NULL out of range. */
const char *vb_emo_name(int emo);
/* The class named s, or -1. */
int vb_emo_lookup(const char *s);
/* The circumplex point of one class. */
struct vb_point vb_emo_point(int emo);
/* The point of a probability vector p[VB_NEMO] (summing to 1). */
struct vb_point vb_emo_mix(const double *p);
/* The most probable class of p (the first on ties). */
int vb_emo_dominant(const double *p);

/* A target of lift: a class name or one of the named targets "calm" and
 * "energetic".  0 with *pt set, or -1 (error set) for an unknown name. */
int vb_rec_target(const char *name, struct vb_point *pt);

/* --- the emotions CSV of emotion-predict ---------------------------------
 * Header frame,face,x,y,w,h,<one column per class>,emotion; the class
 * columns are the ones between h and emotion, each named by a class (the
 * 4-class and 7-class sets both work, in any order). */
struct vb_emo_cols {
	int frame, face, emotion; /* column indices */
	int ncols;                /* fields per row */
	int ncls;
	int col[VB_NEMO];         /* column of each class present */
	int cls[VB_NEMO];         /* its class */
};

/* Split one CSV line in place into fields (RFC 4180 quoting within the
 * line; the trailing CR/LF removed).  *fields is a reused array the caller
 * frees.  Returns the field count or -1 (error set: bad quoting, no memory). */
int vb_rec_split(char *line, char ***fields, size_t *cap);

/* Parse the header.  0 or -1 (error set: missing frame/emotion column,
 * an unknown class, no classes). */
int vb_emo_header(struct vb_emo_cols *c, char **f, int n);

/* One row.  *frame receives the frame number; returns 1 with p[VB_NEMO]
 * filled (normalised to sum 1) for a face, 0 for a row without a face
 * (face empty or emotion "none"), -1 (error set) for a malformed row. */
int vb_emo_row(const struct vb_emo_cols *c, char **f, int n, long *frame, double *p);

/* --- the catalogue ----------------------------------------------------- */

/* The audio features used for similarity and preference. */
enum { VB_F_DANCE, VB_F_ENERGY, VB_F_LOUD, VB_F_SPEECH, VB_F_ACOUSTIC,
       VB_F_INSTR, VB_F_LIVE, VB_F_VALENCE, VB_F_TEMPO, VB_NFEAT };

/* The column name of a feature ("danceability", ...). */
const char *vb_feat_name(int f);

/* A string as a view into the catalogue's memory (not NUL-terminated). */
struct vb_sv {
	const char *p;
	uint32_t n;
};

/* A NUL-terminated copy the caller frees; NULL on no memory. */
char *vb_sv_dup(struct vb_sv v);

struct vb_song {
	struct vb_sv id, name, artist, genre, mood;
	struct vb_sv valence_text, energy_text; /* as written in the input */
	uint64_t artist_h;         /* hash of artist (see vb_same_artist) */
	int genre_id;              /* a small integer, equal for equal genres */
	float valence, energy;
	float z[VB_NFEAT];         /* features standardised over the catalogue
				      (0 for a missing column), clipped to +-3 */
};

struct vb_catalog {
	struct vb_song *song;      /* n songs, in input order */
	size_t n;
	int ngenres;
	char **genres;             /* genre_id -> name (NUL-terminated) */
	long duplicates;           /* rows skipped for a repeated id */
	int have[VB_NFEAT];        /* 1 if the feature's column was present */
	void *priv;                /* the input, string tables, id index */
};

/* Read a songs CSV (song-cluster's output, or any catalogue with the
 * columns id, name, artist, genre, valence, energy -- TidyTuesday's
 * track_id, track_name, track_artist, playlist_genre and Kaggle's
 * track_genre, artists, song_name are accepted too; mood and the other
 * audio features are optional).  A repeated id keeps its first row; blank
 * lines are skipped.  Returns NULL (error set, naming the line) on
 * malformed input, a missing column, or no songs.  vb_catalog_read reads f
 * to its end (f stays open); vb_catalog_load maps a regular file ("-" or
 * NULL: stdin). */
struct vb_catalog *vb_catalog_read(FILE *f);
struct vb_catalog *vb_catalog_load(const char *path);
/* Free a catalogue; accepts NULL. */
void vb_catalog_free(struct vb_catalog *c);
/* 1 if two songs have the same artist. */
int vb_same_artist(const struct vb_song *a, const struct vb_song *b);
/* The index of the song with this id, or -1. */
long vb_catalog_find(const struct vb_catalog *c, const char *id);

/* --- the listener's profile -------------------------------------------- */

/* Weights of the preference model: one linear model per class over the
 * standardised features plus a bias. */
#define VB_PREF_DIM (VB_NFEAT + 1)

struct vb_profile {
	size_t n;                  /* = catalogue size */
	int8_t *opinion;           /* per song: +1 liked, -1 disliked, 0 neither (latest wins) */
	uint8_t *liked_emo;        /* per song: bit k = liked while class k (bit 7: no emotion) */
	float (*skips)[VB_NEMO + 1]; /* per song: skips while each class (last: none) */
	uint16_t *plays;           /* per song: play events */
	double w[VB_NEMO][VB_PREF_DIM]; /* preference model per class */
	long updates[VB_NEMO];     /* SGD steps per class */
	size_t *liked;             /* liked songs, most recent first */
	size_t nliked;
	long used, unknown;        /* events applied; events for tracks not in the catalogue */
};

/* Learn a profile from the log (NULL: an empty profile).  Returns NULL
 * (error set) on no memory; free with vb_profile_free. */
struct vb_profile *vb_profile_learn(const struct vb_catalog *c, const struct vb_fb_log *log);
void vb_profile_free(struct vb_profile *p);

/* --- playlists --------------------------------------------------------- */

enum { VB_MODE_MATCH, VB_MODE_LIFT, VB_MODE_CALM, VB_MODE_ENERGIZE };

/* The mode named s ("match", "lift", "calm", "energize"), or -1. */
int vb_rec_mode(const char *s);

struct vb_rec_opts {
	int mode;
	const char *target;        /* lift target name (default "happy") */
	int n;                     /* songs wanted */
	int spread;                /* 1: spread genres (default) */
	int genre;                 /* -1, or only this genre_id */
};

struct vb_rec_item {
	size_t song;
	double score;
	char why[96];
};

/* Rank a playlist of at most opts->n songs for the listener in state p
 * (class probabilities).  exclude (may be NULL) marks songs not to use.
 * No song twice, never a disliked song, never the same artist twice in a
 * row.  Fills out[] and returns the count (fewer than n when the catalogue
 * runs out), or -1 (error set). */
int vb_recommend(const struct vb_catalog *c, const struct vb_profile *prof,
		 const double *p, const struct vb_rec_opts *opts,
		 const unsigned char *exclude, struct vb_rec_item *out);

#endif
