import { nextTick } from 'vue';

/** After a failed submit, moves focus to the first field marked invalid, so its message is read out. */
export async function focusFirstInvalid(form: HTMLElement | null | undefined): Promise<void> {
  await nextTick();
  form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
