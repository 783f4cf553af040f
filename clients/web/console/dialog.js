// @ts-check
/**
 * The console's confirmations and small forms: a modal `<dialog>` (focus kept inside, Escape
 * cancels, the page behind inert), labelled by its title and described by its explanation.
 * The action runs while the dialog is open, so a refusal is shown where the user acted.
 */

import { h, uniqueId } from "./dom.js";

/**
 * @typedef {object} Field
 * @property {string} name
 * @property {string} label
 * @property {"text" | "textarea"} [type] default "text"
 * @property {string} [value]
 * @property {string} [hint] shown under the label, and read with the field
 * @property {number} [maxLength]
 * @property {boolean} [required]
 */

/**
 * @typedef {object} DialogOptions
 * @property {string} title
 * @property {string} [description]
 * @property {Field[]} [fields]
 * @property {string} confirmLabel
 * @property {boolean} [danger] a destructive action: styled so, and Cancel has the focus first
 * @property {(values: Record<string, string>) => { field: string, message: string } | null} [validate]
 *   checked before `action` runs: a problem is shown at its field, and nothing is sent
 * @property {(values: Record<string, string>) => Promise<void>} action
 * @property {(error: unknown) => string | null} failure what to show in the dialog when `action`
 *   fails, or null to close it (the page shows what happened)
 */

/**
 * Open a dialog; resolves with true once its action succeeded, false when cancelled (or when
 * `failure` closed it).
 * @param {DialogOptions} options
 * @returns {Promise<boolean>}
 */
export function openDialog({ title, description, fields = [], confirmLabel, danger, validate, action, failure }) {
  const titleId = uniqueId("dialog-title");
  const descriptionId = uniqueId("dialog-description");
  const alertBox = h("p", { class: "dialog-error", role: "alert" });
  /** @type {Map<string, { control: HTMLInputElement | HTMLTextAreaElement, error: HTMLElement }>} */
  const controls = new Map();

  const fieldRows = fields.map((field, index) => {
    const id = uniqueId(`field-${field.name}`);
    const hintId = field.hint ? `${id}-hint` : null;
    const errorId = `${id}-error`;
    const common = {
      id,
      name: field.name,
      maxlength: field.maxLength,
      required: field.required,
      autofocus: index === 0,
      "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    };
    const control =
      field.type === "textarea"
        ? h("textarea", { ...common, rows: 8, spellcheck: "false" }, field.value ?? "")
        : h("input", { ...common, type: "text", value: field.value ?? "", autocomplete: "off" });
    const error = h("p", { id: errorId, class: "field-error" });
    controls.set(field.name, { control, error });
    return h(
      "div",
      { class: "field" },
      h("label", { for: id }, field.label),
      hintId && h("p", { id: hintId, class: "hint" }, field.hint ?? ""),
      control,
      error,
    );
  });

  const cancel = h("button", { type: "button", class: "secondary", autofocus: !fields.length && danger }, "Cancel");
  const confirm = h(
    "button",
    { type: "submit", class: danger ? "danger" : "primary", autofocus: !fields.length && !danger },
    confirmLabel,
  );
  const form = h(
    "form",
    { novalidate: true },
    h("h2", { id: titleId }, title),
    description && h("p", { id: descriptionId }, description),
    fieldRows,
    alertBox,
    h("div", { class: "dialog-actions" }, cancel, confirm),
  );
  const dialog = h(
    "dialog",
    { "aria-labelledby": titleId, "aria-describedby": description ? descriptionId : null },
    form,
  );

  return new Promise((resolve) => {
    let busy = false;
    let succeeded = false;
    const close = () => dialog.close();
    /** @param {boolean} working */
    const setBusy = (working) => {
      busy = working;
      form.setAttribute("aria-busy", String(working));
      confirm.disabled = cancel.disabled = working;
    };

    dialog.addEventListener("cancel", (event) => {
      if (busy) event.preventDefault(); // Escape while the action runs: let it finish
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(succeeded);
    });
    cancel.addEventListener("click", close);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      const values = Object.fromEntries(Array.from(controls, ([name, { control }]) => [name, control.value]));
      for (const { control, error } of controls.values()) {
        control.removeAttribute("aria-invalid");
        error.textContent = "";
      }
      alertBox.textContent = "";
      const problem = validate?.(values) ?? null;
      if (problem) {
        const { control, error } = /** @type {{ control: HTMLElement, error: HTMLElement }} */ (
          controls.get(problem.field)
        );
        control.setAttribute("aria-invalid", "true");
        error.textContent = problem.message;
        control.focus();
        return;
      }
      setBusy(true);
      try {
        await action(values);
      } catch (error) {
        setBusy(false);
        const message = failure(error);
        if (message === null) {
          close();
        } else {
          alertBox.textContent = message;
          confirm.focus();
        }
        return;
      }
      succeeded = true;
      close();
    });

    document.body.append(dialog);
    dialog.showModal();
  });
}
