/* plein.conf: parsing, editing, keeping comments, refusing bad lines. */
#include <unistd.h>

#include "harness.h"
#include "plein/conf.h"
#include "plein/error.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

TEST(read_edit_and_save_keep_comments)
{
	char path[] = "/tmp/plein-conf-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	write_file(path, "# my site\n[site]\nname = Hengelo\n\n[peer \"enschede\"]\nurl = tcp://127.0.0.1:7000\n");
	plein_conf *c = NULL;
	CHECK_OK(plein_conf_load(&c, path));
	CHECK_STR(plein_conf_get(c, "site.name"), "Hengelo");
	CHECK_STR(plein_conf_get(c, "peer.enschede.url"), "tcp://127.0.0.1:7000");
	CHECK_STR(plein_conf_subsection(c, "peer", 0), "enschede");
	CHECK(plein_conf_subsection(c, "peer", 1) == NULL);
	plein_conf_set(c, "peer.stick.url", "/media/usb/plein.git");
	plein_conf_set(c, "site.listen", "127.0.0.1:7420");
	CHECK_OK(plein_conf_save(c, path));
	plein_conf_free(c);

	CHECK_OK(plein_conf_load(&c, path));
	CHECK_STR(plein_conf_get(c, "peer.stick.url"), "/media/usb/plein.git");
	CHECK_STR(plein_conf_get(c, "site.listen"), "127.0.0.1:7420");
	CHECK_EQ_INT(plein_conf_remove_section(c, "peer.enschede"), 1);
	CHECK(plein_conf_get(c, "peer.enschede.url") == NULL);
	CHECK_OK(plein_conf_save(c, path));
	plein_conf_free(c);

	FILE *f = fopen(path, "r");
	char text[1024] = "";
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = 0;
	fclose(f);
	CHECK(strstr(text, "# my site") != NULL);
	CHECK(strstr(text, "[peer \"stick\"]") != NULL);
	unlink(path);
}

TEST(malformed_line_is_refused_with_its_number)
{
	char path[] = "/tmp/plein-conf-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	write_file(path, "[site]\nname = x\nthis is not a setting\n");
	plein_conf *c = NULL;
	CHECK_EQ_INT(plein_conf_load(&c, path), PLEIN_EINVAL);
	CHECK(strstr(plein_error(), ":3:") != NULL);
	unlink(path);
}
