/* The program inside the hello example image. Built statically so that the
 * image needs nothing else: cc -static -O2 -o app/hello hello.c */
#include <stdio.h>

int main(void)
{
	puts("hello from imagespec");
	return 0;
}
