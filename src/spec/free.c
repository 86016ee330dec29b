/* Freeing the model: every string and array the parser allocated. */
#include "spec/spec_int.h"

#include <stdlib.h>
#include <string.h>

void spec_str_dispose(ims_str *s)
{
	free(s->s);
	s->s = NULL;
}

/* Secrets do not outlive the model in freed heap memory. */
static void secret_dispose(ims_str *s)
{
	if (s->s)
		explicit_bzero(s->s, strlen(s->s));
	spec_str_dispose(s);
}

void spec_strlist_dispose(ims_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].s);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void spec_kvlist_dispose(ims_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key.s);
		free(l->v[i].value.s);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void file_dispose(ims_file_spec *f)
{
	spec_str_dispose(&f->src);
	spec_str_dispose(&f->dest);
	spec_strlist_dispose(&f->include);
	spec_strlist_dispose(&f->exclude);
	spec_strlist_dispose(&f->ignore_files);
	free(f->content);
	f->content = NULL;
	spec_str_dispose(&f->symlink);
}

static void files_free(ims_file_spec *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		file_dispose(&files[i]);
	free(files);
}

static void layer_dispose(ims_layer_spec *l)
{
	spec_str_dispose(&l->name);
	files_free(l->files, l->nfiles);
	spec_str_dispose(&l->archive);
	spec_str_dispose(&l->url);
	spec_str_dispose(&l->sha256);
	spec_kvlist_dispose(&l->sha256_by_platform);
	spec_str_dispose(&l->dest);
	spec_strlist_dispose(&l->include);
	spec_str_dispose(&l->digest);
	spec_str_dispose(&l->diff_id);
	spec_str_dispose(&l->media_type);
	spec_strlist_dispose(&l->urls);
}

void ims_spec_model_free(ims_spec_model *m)
{
	if (!m)
		return;
	spec_strlist_dispose(&m->cache_from);
	spec_str_dispose(&m->cache_to);
	free(m->path);
	free(m->dir);
	spec_str_dispose(&m->api_version);
	spec_str_dispose(&m->base);
	spec_str_dispose(&m->target);
	spec_strlist_dispose(&m->tags);
	spec_strlist_dispose(&m->platforms);
	spec_kvlist_dispose(&m->params);
	files_free(m->files, m->nfiles);
	for (size_t i = 0; i < m->nlayers; i++)
		layer_dispose(&m->layers[i]);
	free(m->layers);
	spec_strlist_dispose(&m->delete_paths);
	spec_strlist_dispose(&m->opaque);
	spec_strlist_dispose(&m->remove_layers);
	spec_strlist_dispose(&m->entrypoint);
	spec_strlist_dispose(&m->cmd);
	spec_kvlist_dispose(&m->env);
	free(m->env_secret);
	spec_str_dispose(&m->working_dir);
	spec_str_dispose(&m->user);
	spec_kvlist_dispose(&m->labels);
	spec_kvlist_dispose(&m->annotations);
	spec_strlist_dispose(&m->exposed_ports);
	spec_strlist_dispose(&m->volumes);
	spec_str_dispose(&m->stop_signal);
	spec_strlist_dispose(&m->healthcheck.test);
	for (size_t i = 0; i < m->nauth; i++) {
		ims_auth_entry *a = &m->auth[i];
		spec_str_dispose(&a->key);
		spec_str_dispose(&a->username);
		secret_dispose(&a->password);
		secret_dispose(&a->token);
		spec_str_dispose(&a->google_credentials_file);
		spec_str_dispose(&a->helper);
	}
	free(m->auth);
	for (size_t i = 0; i < m->nregistries; i++) {
		ims_registry_entry *r = &m->registries[i];
		spec_str_dispose(&r->host);
		spec_str_dispose(&r->ca_file);
		spec_str_dispose(&r->client_cert);
		spec_str_dispose(&r->client_key);
	}
	free(m->registries);
	free(m);
}
